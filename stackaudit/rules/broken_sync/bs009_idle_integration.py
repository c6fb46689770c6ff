"""BS009: an integration nothing shows running: credentials unused for too long, or no evidence of activity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from pydantic import Field

from stackaudit_inventory.models import Capability, Integration, Origin
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import Rule, RuleContext, RuleParams
from ...graph import elapsed
from .._common import (
    flow_evidence,
    format_duration,
    format_timestamp,
    has_activity_evidence,
    latest,
    live_integrations,
    plural,
)
from .bs002_stale_sync import Params as StaleParams


class Params(RuleParams):
    max_idle_days: int = Field(
        default=30,
        ge=1,
        description="How long an integration with no declared expected interval may go without any activity.",
    )


class IdleIntegrationRule(Rule[Params]):
    """An integration whose credentials or connected app have not been used for far longer than it should run,
    or a declared integration with no evidence of activity at all.

    Why it matters: an integration can die quietly: its user is deactivated, its token revoked, the middleware
    account downgraded, the Zap turned off at the other end. No errors follow, because nothing runs. The newest
    activity is the last sync attempt or success, or the last use of its OAuth token (Salesforce connected-app
    activity). It is idle when that is older than the expected interval times BS002's ``factor`` (``high``: it is
    meant to run that often), or, with no declared interval, older than ``max_idle_days`` (``medium``). An
    integration whose last success and expected interval are both known is BS002's to judge and is skipped here.

    A declared integration with nothing at all (no sync dates, no run counts, no status from a source or from the
    manifest's ``observed`` block) is reported as ``low``: nobody can tell whether it runs. BS001 and BS002 do not
    report themselves inconclusive for those; this rule speaks for them. A discovered integration with nothing
    recorded is inconclusive: the source that found it cannot see its runs. Disabled integrations are BS010's.

    Evidence is combined across sources: a declared flow with nothing recorded of its own, whose credentials a
    source saw in use (a Salesforce connected app of its source tool, or of its middleware, such as Hightouch's
    for ``snowflake->salesforce`` via Hightouch), is not "without evidence". That connected-app record is judged
    here on its own (an app idle for too long is reported under its id), so the flow is not reported twice.

    Example: ``drift->salesforce``, a connected app whose token was last used 75 days ago, no interval declared.

    Fix: check the integration's user and credentials, re-authorise or remove it; for declared flows without
    evidence, connect the source that sees them, or read the middleware's run history into the manifest's
    ``observed`` block.
    """

    id = "BS009"
    name = "idle-integration"
    title = "Integration with no recent activity, or no evidence of activity"
    category = Category.broken_sync
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.integrations, Capability.sync_health, Capability.activity})
    remediation = (
        "Check the integration's user and credentials and re-authorise or remove it; for flows without evidence, "
        "connect a source that sees their runs or record the run history in the manifest's observed block."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        factor = ctx.params_of("BS002", StaleParams).factor
        flows = flow_evidence(ctx.snapshot)
        for integ in live_integrations(ctx.snapshot):
            if not has_activity_evidence(integ):
                if not flows.active_siblings(integ.id):
                    yield from self._no_evidence(ctx, integ)
                continue
            if integ.last_success_at is not None and integ.expected_interval_minutes is not None:
                continue  # BS002 judges it
            newest = latest(integ.last_sync_at, integ.last_success_at)
            if newest is None:
                continue  # counts or a status show activity, with no date to judge
            age = max(elapsed(ctx.now, newest), timedelta(0))
            if integ.expected_interval_minutes is not None:
                interval = timedelta(minutes=integ.expected_interval_minutes)
                limit = interval * factor
                basis = f"expected every {format_duration(interval)}, idle after {factor:g} intervals"
                severity = Severity.high
            else:
                limit = timedelta(days=ctx.params.max_idle_days)
                basis = f"no expected interval declared; limit {ctx.params.max_idle_days} days"
                severity = Severity.medium
            if age <= limit:
                continue
            what = "last sync attempt or use of its credentials" if integ.last_success_at is None else "last activity"
            evidence = [
                f"Its {what} was {format_timestamp(newest)}, {format_duration(age)} ago ({basis}).",
                f"Status reported: {integ.status.value}.",
            ]
            if integ.last_success_at is None:
                evidence.append("No successful sync is recorded.")
            if integ.evidence_sources:
                evidence.append(f"Seen by {', '.join(integ.evidence_sources)}.")
            yield ctx.finding(
                [integ.id],
                f"{integ.id} has not been used for {format_duration(age)}",
                evidence=evidence,
                facts={
                    "last_activity_at": newest.isoformat(),
                    "idle_days": age.days,
                    "expected_interval_minutes": integ.expected_interval_minutes,
                    "limit_days": round(limit / timedelta(days=1), 2),
                    "status": integ.status.value,
                    "evidence": "stale",
                },
                severity=severity,
            )

    def _no_evidence(self, ctx: RuleContext[Params], integ: Integration) -> Iterator[Finding | Inconclusive]:
        if integ.origin is Origin.discovered:
            seen = ", ".join(integ.evidence_sources) or "a connector"
            yield ctx.inconclusive(integ.id, f"found by {seen}, which records no sync runs, dates or status for it")
            return
        via = f" via {integ.via}" if integ.via else ""
        evidence = [
            f"{integ.id}{via} is declared in the manifest, but nothing shows it running: no sync dates, no run counts "
            "and no status.",
        ]
        if integ.mappings:
            evidence.append(f"It declares {plural(len(integ.mappings), 'field mapping')} that may not be flowing.")
        if integ.expected_interval_minutes:
            interval = format_duration(timedelta(minutes=integ.expected_interval_minutes))
            evidence.append(f"It is expected every {interval}.")
        not_checked = [
            "No connected source observes this flow"
            + (f" (the middleware {integ.via} has no connector)" if integ.via else "")
            + "; its error rate (BS001) and staleness (BS002) cannot be judged either."
        ]
        yield ctx.finding(
            [integ.id],
            f"{integ.id} is declared but nothing shows it running",
            evidence=evidence,
            facts={"evidence": "none", "origin": integ.origin.value, "via": integ.via, "mappings": len(integ.mappings)},
            not_checked=not_checked,
            severity=Severity.low,
        )
