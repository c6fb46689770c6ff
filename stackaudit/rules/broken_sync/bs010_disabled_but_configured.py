"""BS010: an integration or destination switched off but still configured."""

from __future__ import annotations

from collections.abc import Iterator

from stackaudit_inventory.models import Capability, IntegrationStatus, Origin
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import NoParams, Rule, RuleContext
from .._common import blind_sources, format_timestamp, plural


class DisabledButConfiguredRule(Rule[NoParams]):
    """An integration whose status is disabled but that still holds field mappings, or a disabled destination
    still connected in the tool that feeds it.

    Why it matters: a switched-off sync looks harmless, but it keeps its credentials, its field mappings and its
    place in every diagram. Its mappings keep fields looking used (so nobody cleans them up), its stored
    credentials keep access to customer data, and re-enabling it by mistake pushes months of stale values. Either
    it comes back (then its mappings need checking) or it goes (then its configuration should too). The rule
    flags a disabled integration with mappings, and a disabled one a connector still sees configured (a Segment
    destination toggled off, a connected app with live tokens). A disabled flow only the manifest mentions, with
    no mappings, is a note, not a configuration, and passes. A connector that could not list integrations
    (failed, or integrations not read) is inconclusive: disabled ones there cannot be seen.

    Example: ``segment->mixpanel`` disabled since March, still connected in Segment with its API key.

    Fix: decide whether it comes back. If not, delete the destination or connection, revoke its credentials and
    remove its mappings (and the manifest entry); if it does, review its mappings (BS003 to BS005) first.
    """

    id = "BS010"
    name = "disabled-but-configured"
    title = "Disabled integration still configured"
    category = Category.broken_sync
    severity = Severity.low
    requires = frozenset({Capability.integrations})
    remediation = (
        "Decide whether it comes back: if not, delete the connection, revoke its credentials and remove its "
        "mappings; if so, review its mappings before re-enabling it."
    )

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        for run, why in blind_sources(ctx.snapshot, Capability.integrations):
            yield ctx.inconclusive(run.id, f"{why}: disabled integrations it holds cannot be seen")
        for integ in sorted(ctx.snapshot.integrations, key=lambda i: i.id):
            if integ.status is not IntegrationStatus.disabled:
                continue
            connected = integ.origin is not Origin.declared and bool(integ.evidence_sources)
            seen_by = [s for s in integ.evidence_sources if s != "manifest"]
            if not integ.mappings and not connected:
                continue
            evidence = [f"{integ.id} is disabled."]
            if connected:
                evidence.append(f"It is still configured where {', '.join(seen_by) or 'a connector'} found it.")
            if integ.mappings:
                evidence.append(
                    f"It still holds {plural(len(integ.mappings), 'field mapping')} "
                    f"(e.g. {integ.mappings[0].source} -> {integ.mappings[0].target})."
                )
            last = integ.last_success_at or integ.last_sync_at
            if last is not None:
                evidence.append(f"Last activity {format_timestamp(last)}.")
            yield ctx.finding(
                [integ.id],
                f"{integ.id} is disabled but still configured",
                evidence=evidence,
                facts={
                    "mappings": len(integ.mappings),
                    "still_connected": connected,
                    "seen_by": seen_by,
                    "last_activity_at": last.isoformat() if last else None,
                },
            )
