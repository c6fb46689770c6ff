"""BS002: an integration whose last successful sync is far older than it should be."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from pydantic import Field

from stackaudit_inventory.models import Capability, IntegrationStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from ...graph import assess_flow
from .._common import flow_evidence, format_duration, format_timestamp, has_activity_evidence, latest


class Params(RuleParams):
    factor: float = Field(
        default=3.0,
        gt=1,
        description="How many expected intervals may pass without a successful sync before it counts as broken.",
    )


class StaleSyncRule(Rule[Params]):
    """An integration whose last successful sync is older than its expected interval times a factor.

    Why it matters: native syncs run every few minutes (Marketo to Salesforce about every 5, HubSpot to
    Salesforce about every 15), so a last success days ago means the sync is broken, not slow: expired
    credentials, a deactivated integration user, a mapping to a deleted field. Every hour it stays broken,
    leads miss their routing and the two systems drift apart. The rule needs both the last successful sync and
    the expected interval (declared in the manifest or reported by a connector); without them it reports
    itself inconclusive for that integration rather than passing it, except when nothing at all shows the
    integration running, which BS009 reports. Disabled integrations are left to BS010. A record that is only
    evidence of a declared flow (a Salesforce connected app's token use, which says nothing of successful syncs)
    is not judged on its own: the flow is judged under its declared id, and is inconclusive there when the token's
    use is all that shows it running.

    Example: ``hubspot->salesforce`` expected every 15 minutes, last success 4 days ago (384 intervals).

    Fix: open the integration's error log, re-authorise or reactivate the integration user, fix the failing
    mapping, then re-sync the records changed since the last success.
    """

    id = "BS002"
    name = "stale-sync"
    title = "Integration has not synced successfully for far longer than its interval"
    category = Category.broken_sync
    severity = Severity.high
    params = Params
    requires = frozenset({Capability.integrations, Capability.sync_health})
    remediation = (
        "Check the integration's error log, re-authorise it or reactivate its user, fix failing mappings, then "
        "re-sync the records changed since the last success."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        factor = ctx.params.factor
        flows = flow_evidence(ctx.snapshot)
        for integ in sorted(ctx.snapshot.integrations, key=lambda i: i.id):
            if integ.status is IntegrationStatus.disabled or integ.id in flows.evidence_of:
                continue
            if not has_activity_evidence(integ):
                seen = flows.active_siblings(integ.id)
                if seen:
                    used = latest(*(s.last_sync_at for s in seen))
                    when = f", last {format_timestamp(used)}" if used else ""
                    yield ctx.inconclusive(
                        integ.id,
                        f"no last successful sync recorded; only {', '.join(s.id for s in seen)} shows it "
                        f"running{when}",
                    )
                continue  # with nothing at all, BS009 reports it
            if integ.last_success_at is None:
                attempt = f" (last attempt {format_timestamp(integ.last_sync_at)})" if integ.last_sync_at else ""
                yield ctx.inconclusive(integ.id, f"no last successful sync recorded{attempt}")
                continue
            if integ.expected_interval_minutes is None:
                yield ctx.inconclusive(integ.id, "no expected sync interval declared (expected_interval)")
                continue
            a = assess_flow(integ, ctx.now, factor)
            if a.overdue is None or a.age is None or a.overdue <= factor:
                continue
            interval = timedelta(minutes=integ.expected_interval_minutes)
            evidence = [
                f"Last successful sync {format_timestamp(integ.last_success_at)}, {format_duration(a.age)} ago.",
                f"Expected every {format_duration(interval)}: {a.overdue:,.1f} intervals have passed "
                f"(broken after {factor:g}).",
                f"Status reported: {integ.status.value}.",
            ]
            if integ.last_sync_at and integ.last_sync_at != integ.last_success_at:
                evidence.append(f"Last attempt {format_timestamp(integ.last_sync_at)}.")
            if integ.error_samples:
                evidence.append("Recent errors: " + "; ".join(integ.error_samples[:3]) + ".")
            not_checked = []
            if not integ.evidence_sources:
                not_checked.append("No connector observed this integration; its run history was declared by hand.")
            yield ctx.finding(
                [integ.id],
                f"{integ.id} last synced successfully {format_duration(a.age)} ago "
                f"(expected every {format_duration(interval)})",
                evidence=evidence,
                facts={
                    "last_success_at": integ.last_success_at.isoformat(),
                    "expected_interval_minutes": integ.expected_interval_minutes,
                    "overdue_intervals": round(a.overdue, 1),
                    "factor": factor,
                    "status": integ.status.value,
                    "health": a.health.value,
                    "mappings": len(integ.mappings),
                },
                not_checked=not_checked,
            )
