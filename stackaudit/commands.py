"""Command bodies behind the CLI: each stage re-runs from the artifact before it.

``pull`` writes a snapshot; ``audit`` reads one and writes an audit result beside it; ``report`` and ``diagram``
render from those two artifacts without calling a vendor.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from stackaudit_inventory import AuditResult, FindingStatus, InputError, RunStatus, Severity, Snapshot
from stackaudit_inventory.store import SnapshotStore, SourceFragment, paused_gc

from .config import LoadedConfig, load_config, render_init_templates
from .outputs import write_atomic

__all__ = [
    "audit_snapshot",
    "diagram_svg",
    "diagram_text",
    "do_audit",
    "do_diagram",
    "do_pull",
    "do_report",
    "do_rules",
    "do_snapshots",
    "init_project",
    "json_schema",
    "render_findings",
]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

SEVERITY_STYLE = {
    Severity.critical: "bold white on red",
    Severity.high: "bold red",
    Severity.medium: "yellow",
    Severity.low: "cyan",
    Severity.info: "dim",
}


def _now() -> datetime:
    return datetime.now(UTC)


def init_project(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the commented templates; refuse to overwrite unless ``force``."""
    templates = render_init_templates()
    targets = {directory / name: text for name, text in templates.items()}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        raise InputError(f"{existing[0]}: already exists (use --force to overwrite)")
    return [write_atomic(path, text) for path, text in targets.items()]


# -------------------------------------------------------------------------------------------------- pull


class _RichProgress:
    """One progress bar per connector, on stderr."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("{task.fields[connector]:<12}"),
            BarColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __call__(self, connector: str, done: int | None, total: int | None, message: str) -> None:
        if connector not in self.tasks:
            self.tasks[connector] = self.progress.add_task(message, connector=connector, total=total)
        self.progress.update(self.tasks[connector], completed=done or 0, total=total, description=message)


def do_pull(
    config_path: Path,
    *,
    only: list[str] | None,
    options: dict[str, Any],
    console: Console | None,
    now: Callable[[], datetime] = _now,
    env: dict[str, str] | None = None,
    resume: bool = False,
) -> int:
    """Pull and store a snapshot. ``console`` None means quiet: no progress, but errors are still printed.

    With ``resume``, the latest snapshot's connectors that completed are reused from its kept fragments and
    only the failed or partial ones are pulled again.
    """
    from .pipeline import run_pull

    config = load_config(config_path)
    store = SnapshotStore(config.store_path)
    problems = console if console is not None else Console(stderr=True, highlight=False, soft_wrap=True)
    with store.lock():
        reuse = _resumable(store, problems) if resume else None
        if resume and reuse is None:
            return EXIT_OK
        progress = _RichProgress(console) if console is not None else None
        kwargs: dict[str, Any] = dict(env=env or dict(os.environ), now=now, options=options, only=only, reuse=reuse)
        if progress is not None:
            with progress.progress:
                outcome = run_pull(config, progress=progress, **kwargs)
        else:
            outcome = run_pull(config, **kwargs)
        store.save_fragments(outcome.snapshot.id, outcome.fragments)
        path = store.save(outcome.snapshot)
    snap = outcome.snapshot
    if console is not None:
        console.print(
            f"snapshot {snap.id}: {len(snap.tools)} tools, {len(snap.fields)} fields, "
            f"{len(snap.integrations)} integrations, {sum(r.api_calls for r in snap.source_runs)} API calls -> {path}",
            markup=False,
        )
    for run in outcome.failed + outcome.partial:
        first = run.errors[0].message if run.errors else "no detail"
        msg = f"{run.status.value}: {first}"
        problems.print(f"error: {msg}" if run.status is RunStatus.failed else f"warning: {msg}", markup=False)
    return EXIT_OK if outcome.complete else EXIT_INCOMPLETE


def _resumable(store: SnapshotStore, console: Console) -> dict[str, SourceFragment] | None:
    """The completed fragments of the latest snapshot, or None (with a message) when there is nothing to resume."""
    entry = store.resolve("latest")
    if entry.completeness == "complete":
        console.print(f"snapshot {entry.id} is complete: nothing to resume", markup=False)
        return None
    fragments = store.load_fragments(entry.id)
    if not fragments:
        raise InputError(
            f"snapshot {entry.id} kept no per-connector fragments (taken by an older stackaudit): run a full pull"
        )
    return {cid: frag for cid, frag in fragments.items() if frag.run.status is RunStatus.complete}


# ------------------------------------------------------------------------------------------------- audit


def _load_snapshot(config: LoadedConfig, ref: str) -> tuple[SnapshotStore, Snapshot]:
    store = SnapshotStore(config.store_path)
    return store, store.load(ref)


def audit_snapshot(
    config: LoadedConfig,
    snapshot: Snapshot,
    *,
    now: datetime | None = None,
    baseline: Path | None = None,
    use_baseline: bool = True,
) -> AuditResult:
    """Run the configured rules with the configured waivers and baseline.

    ``now`` defaults to the snapshot's ``taken_at``: a snapshot is judged as of the moment its evidence was
    read, so re-auditing an old snapshot gives the same verdicts it gave then. ``baseline`` overrides the
    config's ``audit.baseline``; ``use_baseline=False`` applies none (``stackaudit baseline`` writes a new one).
    The rules consult the vendor catalogue as the manifest's ``vendors:`` section extends it.
    """
    from .audit.engine import run_audit
    from .audit.settings import build_settings
    from .audit.waivers import load_waivers
    from .baseline import load_baseline
    from .pipeline import manifest_catalogue

    audit_cfg = config.model.audit
    waivers = load_waivers(config.waivers_path) if config.waivers_path else []
    baseline_path = (baseline or config.baseline_path) if use_baseline else None
    fingerprints = load_baseline(baseline_path) if baseline_path else None
    settings = build_settings(
        select=audit_cfg.select, ignore=audit_cfg.ignore, severity=audit_cfg.severity, rules=audit_cfg.rules
    )
    catalogue = manifest_catalogue(config, missing_ok=True)
    # Rules and the graph allocate an object per field and finding; pausing the cyclic collector meanwhile
    # saves repeated full-heap walks (see paused_gc).
    with paused_gc():
        return run_audit(
            snapshot,
            settings=settings,
            waivers=waivers,
            now=now or snapshot.taken_at,
            baseline=fingerprints,
            catalogue=catalogue,
        )


def render_findings(result: AuditResult, fmt: str) -> str:
    from stackaudit_reports import exports

    if fmt == "json":
        return exports.findings_json(result)
    if fmt == "csv":
        return exports.findings_csv(result)
    return exports.findings_markdown(result)


def _findings_table(result: AuditResult, console: Console) -> None:
    table = Table(title=f"{result.stack}: findings for snapshot {result.snapshot_id}", title_justify="left")
    for col in ("severity", "rule", "category", "subjects", "title", "status"):
        table.add_column(col, overflow="fold")
    for f in result.findings:
        subjects = ", ".join(f.subjects[:3]) + (f" (+{len(f.subjects) - 3})" if len(f.subjects) > 3 else "")
        style = SEVERITY_STYLE[f.severity] if f.status is FindingStatus.open else "dim"
        table.add_row(f.severity.value, f.rule, f.category.value, subjects, f.title, f.status.value, style=style)
    console.print(table)
    counts = result.counts_by_severity()
    summary = ", ".join(f"{n} {s}" for s, n in reversed(list(counts.items())) if n)
    muted = [
        f"{n} {status.value}"
        for status in (FindingStatus.baselined, FindingStatus.waived)
        if (n := sum(1 for f in result.findings if f.status is status))
    ]
    console.print(
        f"{sum(counts.values())} open findings ({summary or 'none'})" + (f"; {', '.join(muted)}" if muted else ""),
        markup=False,
    )
    if result.inconclusive:
        # Grouped by rule and reason: "could not check" must be visible, but not drown the findings.
        groups: dict[tuple[str, str], list[str]] = {}
        for inc in result.inconclusive:
            groups.setdefault((inc.rule, inc.reason), []).append(inc.subject)
        console.print(
            f"{len(result.inconclusive)} checks inconclusive "
            "(a source did not supply the data; --format json lists all):",
            markup=False,
        )
        for (rule, reason), names in sorted(groups.items()):
            more = f" and {len(names) - 3} more" if len(names) > 3 else ""
            console.print(f"  {rule}: {reason}: {', '.join(names[:3])}{more}", markup=False)


def do_audit(
    config_path: Path,
    snapshot_ref: str,
    *,
    fmt: str,
    fail_on: Severity | None,
    baseline: Path | None,
    output: Path | None,
    console: Console,
    now: datetime | None = None,
    since: str | None = None,
) -> int:
    from .audit.engine import fail_exit_code

    config = load_config(config_path)
    store, snapshot = _load_snapshot(config, snapshot_ref)
    result = audit_snapshot(config, snapshot, now=now, baseline=baseline)
    store.save_result(result)
    # --since: the findings delta from an older snapshot's audit (stackaudit.history) follows the findings.
    delta = None
    if since is not None:
        from .history.since import delta_since

        delta = delta_since(config, store, since, snapshot, result)
    if fmt == "table" and output is None:
        _findings_table(result, console)
        if delta is not None:
            from .history.render import delta_renderable

            console.print(delta_renderable(delta))
    else:
        text = render_findings(result, "md" if fmt == "table" else fmt)
        if delta is not None:
            from .history.since import with_delta

            text = with_delta(text, result, delta, "md" if fmt == "table" else fmt)
        if output is not None:
            write_atomic(output, text)
        else:
            console.file.write(text if text.endswith("\n") else text + "\n")
    return fail_exit_code(result, fail_on)


def _result_for(
    config: LoadedConfig, store: SnapshotStore, snapshot: Snapshot, now: datetime, result_path: Path | None = None
) -> AuditResult:
    """The audit result to render: a saved findings file when given, else a fresh audit of the snapshot.

    Auditing is offline and cheap, so rendering re-audits by default: the report then always reflects the
    current rules, thresholds and waivers rather than whatever the last ``audit`` run happened to save.
    """
    if result_path is not None:
        return load_result_file(result_path)
    result = audit_snapshot(config, snapshot, now=now)
    store.save_result(result)
    return result


def load_result_file(path: Path) -> AuditResult:
    from pydantic import ValidationError

    try:
        return AuditResult.model_validate_json(Path(path).read_bytes())
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(f"{path}: not a findings file: {key}: {first['msg']}") from None


def diagram_svg(result: AuditResult, title: str, snapshot: Snapshot | None = None) -> str:
    """The whole-stack diagram as SVG; with ``snapshot``, edge labels say which fields flow."""
    from stackaudit_reports._labels import flow_labels
    from stackaudit_reports.diagram import build_dot, render

    flows = flow_labels(snapshot) if snapshot is not None else None
    return render(build_dot(result.graph, title, flows=flows), "svg").decode("utf-8")


def do_report(
    config_path: Path, snapshot_ref: str, *, output: Path, now: datetime | None = None, result_path: Path | None = None
) -> Path:
    from stackaudit_reports.html import render_html

    from .impact import build_field_impact

    config = load_config(config_path)
    store, snapshot = _load_snapshot(config, snapshot_ref)
    # The report describes the stack as of its snapshot, like the audit does.
    now = now or snapshot.taken_at
    result = _result_for(config, store, snapshot, now, result_path)
    with paused_gc():
        html = render_html(
            snapshot,
            result,
            now=now,
            diagram_svg=diagram_svg(result, snapshot.stack, snapshot),
            impact=build_field_impact(snapshot),
        )
    return write_atomic(output, html)


def diagram_text(
    snapshot: Snapshot,
    result: AuditResult,
    *,
    fmt: str = "dot",
    focus: str | None = None,
    hops: int = 1,
    level: str = "tool",
    to: str | None = None,
    field: str | None = None,
    detail: str = "auto",
) -> str:
    """DOT (``fmt`` dot, svg or png) or Mermaid source for the diagram the options describe."""
    from stackaudit_reports._labels import flow_labels
    from stackaudit_reports._simplify import DETAILS
    from stackaudit_reports.diagram import build_dot
    from stackaudit_reports.lineage import build_lineage_dot, build_lineage_mermaid
    from stackaudit_reports.mermaid import build_mermaid

    from .graph import build_graph
    from .impact import field_lineage, focus_graph

    graph = build_graph(snapshot)
    if level == "field":
        export = field_lineage(snapshot, result.graph, field=field, focus=focus, to=to, graph=graph)
        what = field if field else f"{focus} and {to}"
        title = f"{snapshot.stack}: {what}"
        return build_lineage_mermaid(export, title) if fmt == "mermaid" else build_lineage_dot(export, title)
    if level != "tool":
        raise InputError(f"--level must be tool or field, not {level!r}")
    if field is not None or to is not None:
        raise InputError("--field and --to draw field lineage: add --level field")
    if detail not in DETAILS:
        raise InputError(f"--detail must be one of {', '.join(DETAILS)}, not {detail!r}")
    export, title = result.graph, snapshot.stack
    if focus is not None:
        export = focus_graph(result.graph, graph, focus, hops)
        title = f"{snapshot.stack}: {focus} and its neighbours within {hops} hop{'s' if hops != 1 else ''}"
    flows = flow_labels(snapshot)
    if fmt == "mermaid":
        return build_mermaid(export, title, detail=detail, flows=flows)
    return build_dot(export, title, detail=detail, flows=flows)


def do_diagram(
    config_path: Path,
    snapshot_ref: str,
    *,
    fmt: str,
    now: datetime | None = None,
    focus: str | None = None,
    hops: int = 1,
    level: str = "tool",
    to: str | None = None,
    field: str | None = None,
    detail: str = "auto",
) -> bytes:
    from stackaudit_reports.diagram import render

    config = load_config(config_path)
    store, snapshot = _load_snapshot(config, snapshot_ref)
    result = _result_for(config, store, snapshot, now or snapshot.taken_at)
    text = diagram_text(
        snapshot, result, fmt=fmt, focus=focus, hops=hops, level=level, to=to, field=field, detail=detail
    )
    return text.encode("utf-8") if fmt in ("dot", "mermaid") else render(text, fmt)


# ----------------------------------------------------------------------------------------- snapshots, rules


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def do_snapshots(config_path: Path, *, console: Console) -> None:
    config = load_config(config_path)
    entries = SnapshotStore(config.store_path).list()
    if not entries:
        console.print(f"no snapshots in {config.store_path} (run `stackaudit pull`)", markup=False)
        return
    table = Table(title=f"snapshots in {config.store_path}", title_justify="left")
    for col in ("id", "taken at", "sources", "size", "completeness"):
        table.add_column(col)
    for e in entries:
        taken = e.taken_at.strftime("%Y-%m-%d %H:%M UTC")
        table.add_row(e.id, taken, ", ".join(e.sources), _size(e.size_bytes), e.summary)
    console.print(table)


def do_rules(rule_id: str | None, *, fmt: str, console: Console) -> None:
    from .audit.registry import explain_rule, rule_catalogue

    if rule_id:
        console.print(explain_rule(rule_id), markup=False)
        return
    rows = rule_catalogue()
    if fmt == "json":
        console.file.write(json.dumps(rows, indent=2) + "\n")
        return
    if fmt == "md":
        lines = ["| id | name | category | severity | title |", "|---|---|---|---|---|"]
        lines += [f"| {r['id']} | {r['name']} | {r['category']} | {r['severity']} | {r['title']} |" for r in rows]
        console.file.write("\n".join(lines) + "\n")
        return
    table = Table(title="stackaudit rules", title_justify="left")
    for col in ("id", "name", "category", "severity", "title"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["id"], r["name"], r["category"], r["severity"], r["title"])
    console.print(table)


def json_schema(artifact: str) -> str:
    if artifact == "snapshot":
        schema = Snapshot.model_json_schema()
    elif artifact == "findings":
        schema = AuditResult.model_json_schema()
    else:
        raise InputError(f"--artifact: unknown artifact {artifact!r} (snapshot or findings)")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
