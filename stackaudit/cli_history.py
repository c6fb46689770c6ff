"""History commands: ``diff``, ``trends``, ``review`` and ``snapshots prune``.

Registered on the main app by :func:`register` (kept apart from cli.py so areas evolve independently). All of
them read the snapshot store; only ``review`` without ``--snapshot`` calls the vendors (it pulls first).
"""

# No ``from __future__ import annotations``: typer reads the command signatures at registration, and they
# name ``cli``'s option types, imported inside register() to avoid an import cycle.
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from stackaudit_inventory import Snapshot
    from stackaudit_inventory.store import SnapshotStore

__all__ = ["DIFF_FORMATS", "TREND_FORMATS", "register", "resolve_pair"]

DIFF_FORMATS = ("table", "json", "md")
TREND_FORMATS = ("table", "csv")


def resolve_pair(store: "SnapshotStore", old: str | None, new: str | None) -> tuple["Snapshot", "Snapshot"]:
    """The two snapshots to compare: both named, OLD and the latest, or (neither named) the two newest."""
    from stackaudit_inventory import InputError

    if old is not None:
        return store.load(old), store.load(new or "latest")
    entries = [e for e in store.list() if e.error is None]
    if len(entries) < 2:
        raise InputError(
            f"{store.snapshots_dir}: diff needs two snapshots, the store has {len(entries)} readable "
            "(run `stackaudit pull` again later, or name two with `stackaudit diff OLD NEW`)"
        )
    return store.load_path(entries[-2].path), store.load_path(entries[-1].path)


def register(app: typer.Typer) -> None:
    """Add ``diff``, ``trends``, ``review`` to ``app`` and ``prune`` to the ``snapshots`` group."""
    from . import cli

    FillThresholdOpt = Annotated[
        float,
        typer.Option(
            "--fill-threshold",
            min=0.0,
            max=1.0,
            help="Report fill rates that moved by more than this (absolute: 0.2 = 20 points).",
        ),
    ]

    @app.command()
    def diff(
        old: Annotated[str | None, typer.Argument(help="Older snapshot (default: the second newest).")] = None,
        new: Annotated[str | None, typer.Argument(help="Newer snapshot (default: the newest).")] = None,
        config: cli.ConfigOpt = cli.DEFAULT_CONFIG,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table|json|md")] = "table",
        fill_threshold: FillThresholdOpt = 0.2,
        output: cli.OutputOpt = None,
        debug: cli.DebugOpt = False,
    ) -> None:
        """What changed between two snapshots: tools, objects, fields, fill rates, integrations, references.

        Parts a connector did not read completely in both snapshots are listed as not comparable, never as
        removed."""

        def body() -> int:
            from stackaudit_inventory.store import SnapshotStore

            from .config import load_config
            from .history.diff import diff_snapshots
            from .history.render import diff_markdown, diff_renderable

            if fmt not in DIFF_FORMATS:
                raise typer.BadParameter("--format must be table, json or md")
            store = SnapshotStore(load_config(config).store_path)
            before, after = resolve_pair(store, old, new)
            result = diff_snapshots(before, after, fill_threshold=fill_threshold)
            if fmt == "table" and output is None:
                cli.out.print(diff_renderable(result))
            elif fmt == "json":
                cli._write(result.model_dump_json(indent=2), output)
            else:
                cli._write(diff_markdown(result), output)
            return cli.EXIT_OK

        cli._run(body, debug)

    @app.command()
    def trends(
        config: cli.ConfigOpt = cli.DEFAULT_CONFIG,
        fmt: Annotated[str, typer.Option("--format", "-f", help="table|csv")] = "table",
        output: cli.OutputOpt = None,
        debug: cli.DebugOpt = False,
    ) -> None:
        """Headline figures across every stored snapshot: tools, spend, custom and orphaned fields, broken syncs,
        overlap spend. Snapshots without a saved audit are audited as of their date with the current config."""

        def body() -> int:
            from stackaudit_inventory.store import SnapshotStore

            from .commands import audit_snapshot
            from .config import load_config
            from .history.audits import AuditHistory
            from .history.render import trends_renderable
            from .history.trends import build_trends, trends_csv

            if fmt not in TREND_FORMATS:
                raise typer.BadParameter("--format must be table or csv")
            cfg = load_config(config)
            history = AuditHistory(SnapshotStore(cfg.store_path), lambda snap: audit_snapshot(cfg, snap))
            points = build_trends(history)
            if fmt == "csv" or output is not None:
                cli._write(trends_csv(points), output)
            elif not points:
                cli.out.print(f"no snapshots in {cfg.store_path} (run `stackaudit pull`)", markup=False)
            else:
                cli.out.print(trends_renderable(points))
            return cli.EXIT_OK

        cli._run(body, debug)

    @app.command()
    def review(
        config: cli.ConfigOpt = cli.DEFAULT_CONFIG,
        snapshot: Annotated[
            str | None,
            typer.Option("--snapshot", "-s", help="Review this stored snapshot instead of pulling a new one."),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Folder for the pack (default: stackaudit-review-<snapshot id>)."),
        ] = None,
        fill_threshold: FillThresholdOpt = 0.2,
        debug: cli.DebugOpt = False,
    ) -> None:
        """Prepare the quarterly review: pull (or reuse --snapshot), audit, compare with the previous snapshot, and
        write report.html, findings.json, changes.md, actions.csv, trends.csv and diagram.svg into one folder."""

        def body() -> int:
            from .config import load_config
            from .history.review import run_review

            cfg = load_config(config)
            pack = run_review(
                cfg,
                snapshot_ref=snapshot,
                output=output,
                now=cli._now,
                env=dict(os.environ),
                fill_threshold=fill_threshold,
            )
            _print_review(pack)
            return cli.EXIT_OK if pack.pull_complete or not pack.pulled else cli.EXIT_INCOMPLETE

        cli._run(body, debug)

    @cli.snapshots_app.command("prune")
    def prune(
        keep: Annotated[int, typer.Option("--keep", "-k", min=1, help="How many of the newest snapshots to keep.")],
        config: cli.ConfigOpt = cli.DEFAULT_CONFIG,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")] = False,
        debug: cli.DebugOpt = False,
    ) -> None:
        """Delete all but the newest N snapshots, with their audit results. Unreadable files are left alone."""

        def body() -> int:
            from stackaudit_inventory.store import SnapshotStore

            from .config import load_config

            store = SnapshotStore(load_config(config).store_path)
            removed = store.prune(keep, dry_run=dry_run)
            verb = "would remove" if dry_run else "removed"
            for e in removed:
                taken = e.taken_at.strftime("%Y-%m-%d %H:%M UTC")
                cli.out.print(f"{verb} {e.id} (taken {taken}) and its audit result", markup=False)
            kept = len([e for e in store.list() if e.error is None]) - (len(removed) if dry_run else 0)
            cli.out.print(
                f"{verb} {len(removed)} snapshot{'s' if len(removed) != 1 else ''}; {kept} kept", markup=False
            )
            return cli.EXIT_OK

        cli._run(body, debug)

    def _print_review(pack: "ReviewPack") -> None:
        snap = pack.snapshot
        source = "pulled" if pack.pulled else "reused"
        cli.out.print(
            f"review of snapshot {snap.id} ({source}), taken {snap.taken_at:%Y-%m-%d %H:%M UTC}", markup=False
        )
        if pack.previous is None:
            cli.out.print("first snapshot in the store: nothing to compare with yet", markup=False)
        elif pack.diff is not None and pack.delta is not None:
            d = pack.delta
            cli.out.print(
                f"since {pack.previous.id}: {len(pack.diff.items)} changes, {len(pack.diff.not_comparable)} parts not "
                f"compared; findings {len(d.new)} new, {len(d.resolved)} resolved, {len(d.persisting)} still reported",
                markup=False,
            )
        cli.out.print(f"{len(pack.actions)} recommended actions", markup=False)
        for name, path in pack.files.items():
            cli.out.print(f"  {name:<14} {path}", markup=False)
        if pack.pulled and not pack.pull_complete:
            cli.err.print(
                "warning: the pull was incomplete; the diff lists the parts it could not compare", markup=False
            )


if TYPE_CHECKING:
    from .history.review import ReviewPack
