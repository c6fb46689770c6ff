"""stackaudit reports: rendered from the saved snapshot and audit result alone (never networkx or connectors).

- :mod:`stackaudit_reports.viewmodel`: ``build_report_view(snapshot, result, now)``, all grouping and figures
  (sections in ``_headlines``, ``_sections``, ``_procurement``, ``_fields``, ``_lifecycle``, ``_coverage``)
- :mod:`stackaudit_reports.html`: ``render_html(snapshot, result, *, now, diagram_svg, impact, changes)``, one
  offline file; ``impact`` is plain data computed from the stack graph outside this package
- :mod:`stackaudit_reports.changes`: the optional "since the last snapshot" input of the summary
- :mod:`stackaudit_reports.exports`: findings as JSON (with its schema), CSV and Markdown
- :mod:`stackaudit_reports.inventory_exports`: tools, fields and integrations as CSV or JSON
- :mod:`stackaudit_reports.diagram`: ``build_dot(graph, title)`` and ``render(dot, fmt)`` for svg, png, dot;
  :mod:`stackaudit_reports.mermaid` for Mermaid; :mod:`stackaudit_reports.lineage` for field-level lineage;
  large stacks are simplified by :mod:`stackaudit_reports._simplify`
"""
