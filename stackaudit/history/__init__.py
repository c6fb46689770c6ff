"""The quarterly review: snapshot history, what changed, which findings are new or resolved, and trends.

- :func:`~.diff.diff_snapshots`: tools, objects, fields, fill rates, integrations and references added,
  removed or changed between two snapshots, with the parts that cannot be compared (a connector failed);
- :func:`~.delta.findings_delta`: two audits compared by fingerprint (new, resolved, persisting with
  first-seen date and age, waived since, waivers expired);
- :func:`~.trends.build_trends`: the headline figures of every snapshot in the store;
- :func:`~.actions.build_actions`: the review's short list of actions (``actions.csv``);
- :func:`~.review.run_review`: all of it, written as a review pack.

Modules are imported on use (``from stackaudit.history.diff import diff_snapshots``): nothing runs at import.
"""
