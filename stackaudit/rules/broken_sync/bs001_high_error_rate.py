"""BS001: an integration failing on too many of its recent syncs."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, IntegrationStatus
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from .._common import flow_evidence, has_activity_evidence, plural


class Params(RuleParams):
    max_error_rate: float = Field(
        default=0.05, ge=0, le=1, description="Highest acceptable share of failed syncs in the window (0.05 = 5%)."
    )
    min_events: int = Field(
        default=20,
        ge=1,
        description="Fewest syncs in the window before a rate is judged (a few failures prove little).",
    )


class HighErrorRateRule(Rule[Params]):
    """An integration whose share of failed syncs in the recent window is above a threshold.

    Why it matters: an integration can look healthy (it ran minutes ago) while rejecting a steady share of
    records: a picklist value the target does not accept, a validation rule, a field grown too long. Those
    records silently stop syncing, so the two systems disagree about exactly the leads that matter. The rule
    needs success and error counts over a window; without them it is inconclusive for that integration (unless
    nothing at all shows the integration running: BS009 reports that), and with fewer than ``min_events`` syncs it
    does not judge. A record that is only evidence of a declared flow (a Salesforce connected app's token use, see
    ``FlowEvidence``) is not judged on its own: the flow is judged under its declared id, and is inconclusive
    there when the token's use is all that shows it running.

    Example: ``marketo->salesforce`` with 240 failures out of 2,000 syncs in 7 days (12%), errors
    ``INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST``.

    Fix: read the error samples, fix the cause (picklist values, validation rules, field lengths, permissions)
    and retry the failed records.
    """

    id = "BS001"
    name = "high-sync-error-rate"
    title = "Integration fails on too many of its syncs"
    category = Category.broken_sync
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.integrations, Capability.sync_health})
    remediation = (
        "Read the error samples, fix the cause (picklist values, validation rules, field lengths, permissions), "
        "then retry the failed records."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        p = ctx.params
        flows = flow_evidence(ctx.snapshot)
        for integ in sorted(ctx.snapshot.integrations, key=lambda i: i.id):
            if integ.status is IntegrationStatus.disabled or integ.id in flows.evidence_of:
                continue
            if integ.error_count is None or integ.success_count is None:
                if has_activity_evidence(integ):  # with no evidence at all, BS009 reports it
                    yield ctx.inconclusive(integ.id, "no success and error counts recorded for the recent window")
                elif seen := flows.active_siblings(integ.id):
                    yield ctx.inconclusive(
                        integ.id,
                        "no success and error counts recorded for the recent window; only "
                        f"{', '.join(s.id for s in seen)} shows it running",
                    )
                continue
            events = integ.error_count + integ.success_count
            rate = integ.error_rate
            if rate is None or events < p.min_events or rate <= p.max_error_rate:
                continue
            window = f"in the last {plural(integ.window_days, 'day')}" if integ.window_days else "in the recent window"
            evidence = [
                f"{integ.error_count:,} of {plural(events, 'sync')} failed {window} ({rate:.1%}).",
                f"Threshold: {p.max_error_rate:.1%} over at least {plural(p.min_events, 'sync')}.",
            ]
            if integ.error_samples:
                evidence.append("Error samples: " + "; ".join(integ.error_samples[:3]) + ".")
            not_checked = [] if integ.window_days else ["The window the counts cover was not reported."]
            yield ctx.finding(
                [integ.id],
                f"{integ.id} fails on {rate:.0%} of its syncs",
                evidence=evidence,
                facts={
                    "error_count": integ.error_count,
                    "success_count": integ.success_count,
                    "error_rate": round(rate, 4),
                    "window_days": integ.window_days,
                    "max_error_rate": p.max_error_rate,
                    "error_samples": integ.error_samples[:5],
                },
                not_checked=not_checked,
            )
