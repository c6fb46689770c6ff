"""BS003: a field mapping whose source or target field no longer exists."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import Capability
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import FieldIndex, live_integrations, unread_fields_inconclusive


class MissingMappedFieldRule(Rule[NoParams]):
    """A field mapping to or from a field that does not exist in the snapshot (deleted or renamed), or that is
    archived.

    Why it matters: when an admin deletes or renames a field, the integrations mapping it are not told. Depending
    on the vendor the sync then fails on every record, or silently drops that value, so a lead's source or stage
    stops reaching the CRM. Only a field of a tool whose fields some source read can be called missing: the field
    of a tool no connector read is unknown, not missing, and the rule is inconclusive for that tool (once, with
    examples). Where the source read only some objects of a tool, a field of an object it did not read is unknown
    too. When a field with a close name exists in the same object, the finding names it (a likely rename).
    Disabled integrations are left to BS010.

    Example: ``hubspot->salesforce`` maps ``hubspot:contacts.lead_source`` to ``salesforce:Lead.Lead_Source__c``,
    but Salesforce's Lead object has no such field any more (``LeadSource__c`` exists).

    Fix: point the mapping at the field that replaced it, or remove the mapping; then re-sync the records changed
    since the field went.
    """

    id = "BS003"
    name = "missing-mapped-field"
    title = "Field mapping points at a field that does not exist"
    category = Category.broken_sync
    severity = Severity.high
    requires = frozenset({Capability.integrations, Capability.fields})
    remediation = (
        "Point the mapping at the field that replaced it (or remove the mapping), then re-sync the records changed "
        "since the field went."
    )

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        index = FieldIndex(ctx.snapshot)
        unread: dict[str, set[str]] = {}
        for integ in live_integrations(ctx.snapshot):
            seen: set[str] = set()
            for m in integ.mappings:
                for end, fid in (("source", m.source), ("target", m.target)):
                    if fid in seen:
                        continue
                    seen.add(fid)
                    fld = index.get(fid)
                    if fld is not None and not fld.archived:
                        continue
                    if fld is None and not index.absence_known(fid):
                        unread.setdefault(fid.split(":", 1)[0], set()).add(fid)
                        continue
                    other = m.target if end == "source" else m.source
                    state = "is archived" if fld is not None else "does not exist"
                    evidence = [
                        f"{integ.id} maps {m.source} -> {m.target}"
                        + (" (both ways)" if m.direction == "both" else "")
                        + f"; its {end} {fid} {state}.",
                    ]
                    if fld is None:
                        evidence.append(
                            f"A source read the fields of {fid.split(':', 1)[0]}, and this one was not among them."
                        )
                    similar = index.similar(fid) if fld is None else None
                    if similar:
                        evidence.append(f"A field with a close name exists: {similar} (renamed?).")
                    yield ctx.finding(
                        [integ.id, fid],
                        f"{integ.id} maps {'from' if end == 'source' else 'to'} {fid}, which {state}",
                        evidence=evidence,
                        facts={
                            "integration": integ.id,
                            "field": fid,
                            "end": end,
                            "other_end": other,
                            "archived": fld is not None,
                            "similar_field": similar,
                        },
                    )
        yield from unread_fields_inconclusive(ctx, unread)
