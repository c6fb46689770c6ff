"""HY005: a tool's daily API allowance mostly spent."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import Field

from stackaudit_inventory.models import Capability, CoverageStatus, Quota, SourceRun
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity

from ...audit.rule import FactValue, Rule, RuleContext, RuleParams
from .._common import cannot_see, format_timestamp, plural

_DAILY = re.compile(r"daily|\bday\b|\b24 ?h", re.IGNORECASE)


class Params(RuleParams):
    max_share: float = Field(
        default=0.5, gt=0, le=1, description="Share of a daily API allowance above which the tool is reported."
    )


def is_daily_allowance(q: Quota) -> bool:
    """A daily request allowance with both figures known (not a burst window, not a custom-property quota)."""
    return bool(_DAILY.search(f"{q.name} {q.period or ''}")) and q.used is not None and bool(q.limit)


def _share(q: Quota) -> float:
    return (q.used or 0) / q.limit if q.limit else 0.0


class ApiQuotaHighRule(Rule[Params]):
    """A tool whose daily API allowance is more than half used (``max_share``), from the quotas sources report.

    Why it matters: every integration, sync and script calling a vendor's API draws on one daily allowance. When
    it runs out, syncs stop until the window resets: leads stop reaching the CRM, enrichment stops, and the
    errors surface as broken syncs somewhere else. Usage above half the allowance on an ordinary day leaves no
    room for a backfill, a migration or a misbehaving integration.

    What counts: quotas recorded by a source run (``SourceRun.quota``) that are daily request allowances (the name
    or period says daily, day or 24 h) with both ``used`` and ``limit`` known: HubSpot's ``daily_api_requests``,
    Salesforce's ``DailyApiRequests``, Marketo's daily call count. Burst windows and custom-property quotas
    (HY002) are not. One finding per source, naming each quota over the share; graded high when an allowance is
    used up. The figure includes the calls stackaudit's own pull made, which the evidence gives. A source that
    tried and failed to read its quotas is inconclusive; a source that never reads quotas is silent.

    Example: ``salesforce`` DailyApiRequests 61,200 of 100,000 used (61%), of which the pull made 840.

    Fix: find the heavy callers (the vendor's API usage report by app or user), fix polling integrations and
    runaway scripts, spread backfills over several days, or buy a larger allowance.
    """

    id = "HY005"
    name = "api-quota-high"
    title = "Daily API allowance mostly used"
    category = Category.hygiene
    severity = Severity.medium
    params = Params
    requires = frozenset({Capability.quota})
    remediation = (
        "Find the heavy API callers in the vendor's usage report, fix polling integrations and runaway scripts, "
        "spread backfills out, or buy a larger allowance."
    )

    def check(self, ctx: RuleContext[Params]) -> Iterator[Finding | Inconclusive]:
        for run in sorted(ctx.snapshot.source_runs, key=lambda r: r.id):
            if run.tool is None:
                continue
            daily = [q for q in run.quota if is_daily_allowance(q)]
            if not daily:
                cov = run.coverage.get(Capability.quota)
                if cov is not None and cov.status in (CoverageStatus.missing, CoverageStatus.partial):
                    yield ctx.inconclusive(run.id, cannot_see(run.tool, Capability.quota, cov.status, cov))
                continue
            best: dict[str, Quota] = {}
            for q in daily:
                if q.name not in best or _share(q) > _share(best[q.name]):
                    best[q.name] = q
            over = sorted((q for q in best.values() if _share(q) > ctx.params.max_share), key=lambda q: q.name)
            if over:
                yield self._finding(ctx, run, over)

    def _finding(self, ctx: RuleContext[Params], run: SourceRun, over: list[Quota]) -> Finding:
        tool = run.tool or run.id
        evidence = []
        for q in over:
            when = f", observed {format_timestamp(q.observed_at)}" if q.observed_at else ""
            period = f" per {q.period}" if q.period else ""
            evidence.append(
                f"{q.name}: {q.used:,} of {q.limit:,} used{period} ({_share(q):.0%}, above {ctx.params.max_share:.0%})"
                f"{when}, as reported by the {run.id} source."
            )
        if run.api_calls:
            evidence.append(
                f"stackaudit's own pull made {plural(run.api_calls, 'API call')}; those within the same window are "
                "part of the figure."
            )
        worst = max(over, key=_share)
        facts: dict[str, FactValue] = {
            "source": run.id,
            "quotas": [q.name for q in over],
            "used": worst.used,
            "limit": worst.limit,
            "share": round(_share(worst), 4),
            "max_share": ctx.params.max_share,
            "pull_api_calls": run.api_calls,
        }
        exhausted = any((q.used or 0) >= (q.limit or 0) for q in over)
        return ctx.finding(
            [tool],
            f"{tool} has used {_share(worst):.0%} of its daily API allowance ({worst.name})",
            evidence=evidence,
            facts=facts,
            not_checked=["Which apps or integrations made the calls is not in the quota figures."],
            severity=Severity.high if exhausted else None,
            tools=[tool],
        )
