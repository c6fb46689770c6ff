"""Run the audit: every enabled rule over one snapshot and its graph, into an :class:`AuditResult`.

The order of work, and why:

1. build the graph once; every rule reads the same one;
2. run each enabled rule isolated: a rule that raises yields no findings and one :class:`Inconclusive` naming the
   error (a half-run rule's findings would look complete when they are not), and never stops the audit;
3. apply the user's severity overrides;
4. apply waivers (waived findings stay in the output, marked), then report expired (SA001) and unused (SA002)
   waivers; waiver findings are not themselves waivable;
5. mark open findings whose fingerprint is in the baseline as ``baselined``;
6. sort deterministically (severity desc, category, rule, subjects), so outputs and golden files are stable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from stackaudit_inventory.catalogue import VendorCatalogue, load_catalogue
from stackaudit_inventory.models import Snapshot
from stackaudit_inventory.results import (
    CATEGORIES,
    AuditResult,
    Finding,
    FindingStatus,
    Inconclusive,
    RuleInfo,
    Severity,
)

from ..graph import StackGraph, build_graph, export_graph
from .registry import RuleClass, RuleRegistry, default_registry
from .rule import NoParams, RuleContext
from .settings import AuditSettings, ResolvedRule, build_settings
from .waivers import ExpiredWaiverRule, UnusedWaiverRule, Waiver, apply_waivers, waiver_findings

__all__ = ["CRASH_PREFIX", "fail_exit_code", "run_audit", "sort_findings"]

CRASH_PREFIX = "rule failed"


def _run_rule(
    rule: RuleClass,
    resolved: Mapping[str, ResolvedRule],
    snapshot: Snapshot,
    graph: StackGraph,
    now: datetime,
    catalogue: VendorCatalogue | None,
) -> tuple[list[Finding], list[Inconclusive], bool]:
    """Run one rule isolated. Returns its findings, inconclusive checks, and whether it completed."""
    ctx: RuleContext[Any] = RuleContext(
        rule=rule,
        snapshot=snapshot,
        graph=graph,
        params=resolved[rule.id].params,
        now=now,
        all_params={k: v.params for k, v in resolved.items()},
        catalogue=catalogue,
    )
    findings: list[Finding] = []
    inconclusive: list[Inconclusive] = []
    try:
        for item in rule().check(ctx):
            if isinstance(item, Finding) and item.rule == rule.id:
                findings.append(item)
            elif isinstance(item, Inconclusive) and item.rule == rule.id:
                inconclusive.append(item)
            else:
                raise TypeError(f"check() yielded {type(item).__name__} not built for {rule.id}")
    # The rule-isolation point: a buggy rule (or plugin) costs its own findings, never the whole audit.
    except Exception as exc:  # noqa: BLE001
        reason = f"{CRASH_PREFIX}: {exc.__class__.__name__}: {exc}"
        return [], [Inconclusive(rule=rule.id, subject="*", reason=reason)], False
    return findings, inconclusive, True


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    seen: dict[str, Finding] = {}
    for f in findings:
        seen.setdefault(f.fingerprint, f)
    return list(seen.values())


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Severity (highest first), then category in catalogue order, rule id, and subjects."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(findings, key=lambda f: (-f.severity.rank, order[f.category.value], f.rule, f.subjects))


def _flow_thresholds(resolved: Mapping[str, ResolvedRule]) -> dict[str, Any]:
    """The diagram judges flows with the same thresholds as the broken-sync rules, so they never disagree."""
    out: dict[str, Any] = {}
    for rule_id, keys in (("BS002", ("factor",)), ("BS001", ("max_error_rate", "min_events"))):
        params = resolved[rule_id].params if rule_id in resolved else None
        for key in keys:
            if params is not None and hasattr(params, key):
                out[key] = getattr(params, key)
    return out


def run_audit(
    snapshot: Snapshot,
    *,
    settings: AuditSettings | Mapping[str, BaseModel] | None = None,
    waivers: Iterable[Waiver] = (),
    now: datetime,
    baseline: set[str] | None = None,
    registry: RuleRegistry | None = None,
    catalogue: VendorCatalogue | None = None,
) -> AuditResult:
    """Audit ``snapshot`` at time ``now`` (injected: no rule reads the clock).

    ``settings`` is an :class:`AuditSettings` from :func:`~stackaudit.audit.settings.build_settings`, or the
    per-rule mapping from :func:`~stackaudit.audit.settings.validate_rule_settings` (every rule selected).
    ``catalogue`` is the vendor catalogue rules may consult (default: the bundled one)."""
    reg = registry or default_registry()
    catalogue = catalogue if catalogue is not None else load_catalogue()
    if settings is None or not isinstance(settings, AuditSettings):
        settings = build_settings(rules=settings, registry=reg)
    waiver_list = list(waivers)
    graph = build_graph(snapshot)
    rules = reg.rules()
    resolved = {rule_id: settings.resolve(rule) for rule_id, rule in rules.items()}

    findings: list[Finding] = []
    inconclusive: list[Inconclusive] = []
    ran: set[str] = set()
    infos: list[RuleInfo] = []
    for rule_id, rule in rules.items():
        res = resolved[rule_id]
        infos.append(
            RuleInfo(
                id=rule_id,
                name=rule.name,
                title=rule.title,
                category=rule.category,
                severity=res.severity or rule.severity,
                enabled=res.enabled,
            )
        )
        if not res.enabled or rule.engine_rule:
            continue
        found, unsure, completed = _run_rule(rule, resolved, snapshot, graph, now, catalogue)
        findings += found
        inconclusive += unsure
        if completed:
            ran.add(rule_id)

    findings = [_override(f, resolved) for f in _dedupe(findings)]
    findings, used = apply_waivers(findings, waiver_list, now)
    contexts = {
        cls.id: RuleContext(rule=cls, snapshot=snapshot, graph=graph, params=NoParams(), now=now)
        if cls.id in resolved and resolved[cls.id].enabled
        else None
        for cls in (ExpiredWaiverRule, UnusedWaiverRule)
    }
    findings += [
        _override(f, resolved)
        for f in waiver_findings(
            contexts[ExpiredWaiverRule.id],
            contexts[UnusedWaiverRule.id],
            waiver_list,
            used,
            now,
            ran=ran,
            known=set(rules),
        )
    ]
    if baseline:
        findings = [
            f.model_copy(update={"status": FindingStatus.baselined})
            if f.status is FindingStatus.open and f.fingerprint in baseline
            else f
            for f in findings
        ]

    unique_inconclusive = {(i.rule, i.subject): i for i in inconclusive}
    return AuditResult(
        generated_at=now,
        snapshot_id=snapshot.id,
        stack=snapshot.stack,
        findings=sort_findings(findings),
        inconclusive=[unique_inconclusive[k] for k in sorted(unique_inconclusive)],
        rules=infos,
        graph=export_graph(snapshot, graph, now, **_flow_thresholds(resolved)),
    )


def _override(finding: Finding, resolved: Mapping[str, ResolvedRule]) -> Finding:
    res = resolved.get(finding.rule)
    if res is None or res.severity is None or res.severity == finding.severity:
        return finding
    return finding.model_copy(update={"severity": res.severity})


def fail_exit_code(result: AuditResult, fail_on: Severity | None) -> int:
    """1 when an open finding (not waived, not baselined) is at or above ``fail_on``; else 0."""
    if fail_on is None:
        return 0
    return int(any(f.status is FindingStatus.open and f.severity >= fail_on for f in result.findings))
