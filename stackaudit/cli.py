"""The ``stackaudit`` command line.

Exit codes (a contract for CI): 0 ok; 1 open findings at or above ``--fail-on``; 2 usage or input error
(bad config, manifest, waivers or snapshot; unknown rule or snapshot); 3 pull incomplete (the snapshot was
written and says which connectors failed or were partial).

Every error is one line on stderr naming the file, key or connector; ``--debug`` adds the traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from stackaudit_inventory import Severity, StackauditError

from . import __version__

__all__ = ["app", "main"]

EXIT_OK, EXIT_FINDINGS, EXIT_INPUT, EXIT_INCOMPLETE = 0, 1, 2, 3

app = typer.Typer(
    name="stackaudit",
    help="Audit a martech stack: inventory, data flows, orphaned fields, redundant tools, broken syncs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
snapshots_app = typer.Typer(help="List and prune stored snapshots.", no_args_is_help=False)
app.add_typer(snapshots_app, name="snapshots")

# Piped output (CI logs, files) gets wide tables instead of rich's 80-column default.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

ConfigOpt = Annotated[Path, typer.Option("--config", "-c", help="Path to stackaudit.yaml.", show_default=True)]
OutputOpt = Annotated[Path | None, typer.Option("--output", "-o", help="Write to this path instead of stdout.")]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")]
SnapshotOpt = Annotated[
    str, typer.Option("--snapshot", "-s", help="Snapshot to use: latest, an id, an id prefix or a date.")
]

DEFAULT_CONFIG = Path("stackaudit.yaml")

F = TypeVar("F", bound=Callable[..., Any])


class _Debug:
    enabled = False


def _fail(message: str, code: int = EXIT_INPUT) -> typer.Exit:
    err.print(f"error: {message}", markup=False)
    return typer.Exit(code)


def _run(fn: Callable[[], int | None], debug: bool) -> None:
    """Run a command body: project errors become one line and an exit code, never a traceback."""
    _Debug.enabled = debug
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = fn() or EXIT_OK
    except StackauditError as exc:
        if debug:
            err.print_exception()
        raise _fail(str(exc), exc.exit_code) from None
    except KeyboardInterrupt:
        raise _fail("interrupted", 130) from None
    raise typer.Exit(code)


def _now() -> datetime:
    return datetime.now(UTC)


def _write(text: str | bytes, output: Path | None) -> None:
    """Write to stdout or atomically to a file (never a half-written report)."""
    if output is None:
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return
    from .outputs import write_atomic

    write_atomic(output, text)


# ------------------------------------------------------------------------------------------------ commands


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    if version:
        out.print(f"stackaudit {__version__}")
        raise typer.Exit(0)


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to write the templates into.")] = Path("."),
    force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write commented stackaudit.yaml, stack.yaml (manifest) and waivers.yaml templates."""

    def body() -> int:
        from .commands import init_project

        for path in init_project(directory, force=force):
            out.print(f"wrote {path}", markup=False)
        return EXIT_OK

    _run(body, debug)


@app.command()
def pull(
    config: ConfigOpt = DEFAULT_CONFIG,
    only: Annotated[list[str] | None, typer.Option("--only", help="Pull only this connector id (repeatable).")] = None,
    fill_rates: Annotated[
        str | None,
        typer.Option(
            "--fill-rates",
            help="Fill-rate strategy for connectors that support it: exact|sampled|off (default: each connector's "
            "config, else sampled).",
        ),
    ] = None,
    max_api_share: Annotated[
        float | None,
        typer.Option(
            "--max-api-share",
            help="Largest share of the remaining daily API requests a pull may use where the vendor has a shared "
            "daily quota (Salesforce; default 0.10 or the connector's config).",
            min=0.0,
            max=1.0,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Complete the latest snapshot: reuse the connectors that succeeded, pull only the failed or partial.",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Pull metadata from every connector and write a snapshot to the store."""

    def body() -> int:
        from .commands import do_pull

        options: dict[str, object] = {}
        if fill_rates is not None:
            if fill_rates not in ("exact", "sampled", "off"):
                raise typer.BadParameter("--fill-rates must be exact, sampled or off")
            options["fill_rates"] = fill_rates
        if max_api_share is not None:
            options["max_api_share"] = max_api_share
        return do_pull(config, only=only, options=options, console=None if quiet else err, resume=resume)

    _run(body, debug)


@app.command()
def audit(
    config: ConfigOpt = DEFAULT_CONFIG,
    snapshot: SnapshotOpt = "latest",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table|json|csv|md")] = "table",
    fail_on: Annotated[
        Severity | None, typer.Option("--fail-on", help="Exit 1 if an open finding is at or above this severity.")
    ] = None,
    baseline: Annotated[
        Path | None, typer.Option("--baseline", help="Baseline file: findings in it are marked baselined.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Also print the findings delta since this older snapshot (new, resolved...)."),
    ] = None,
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Run the audit rules on a snapshot (default: the latest) and print the findings."""

    def body() -> int:
        from .commands import do_audit

        if fmt not in ("table", "json", "csv", "md"):
            raise typer.BadParameter("--format must be table, json, csv or md")
        if since is not None and fmt == "csv":
            raise typer.BadParameter("--since prints the delta with --format table, json or md")
        return do_audit(
            config, snapshot, fmt=fmt, fail_on=fail_on, baseline=baseline, output=output, console=out, since=since
        )

    _run(body, debug)


@app.command()
def report(
    config: ConfigOpt = DEFAULT_CONFIG,
    snapshot: SnapshotOpt = "latest",
    output: Annotated[Path, typer.Option("--output", "-o", help="HTML file to write.")] = Path(
        "stackaudit-report.html"
    ),
    debug: DebugOpt = False,
) -> None:
    """Render the self-contained HTML report for a snapshot (auditing it if it has no saved result)."""

    def body() -> int:
        from .commands import do_report

        path = do_report(config, snapshot, output=output)
        out.print(f"wrote {path}", markup=False)
        return EXIT_OK

    _run(body, debug)


@app.command()
def diagram(
    config: ConfigOpt = DEFAULT_CONFIG,
    snapshot: SnapshotOpt = "latest",
    fmt: Annotated[str, typer.Option("--format", "-f", help="svg|png|dot|mermaid")] = "svg",
    focus: Annotated[
        str | None, typer.Option("--focus", help="Draw this tool and its neighbours (with --level field: one end).")
    ] = None,
    hops: Annotated[int, typer.Option("--hops", help="With --focus: how many flows away neighbours may be.")] = 1,
    level: Annotated[str, typer.Option("--level", help="tool (default) or field (field-level lineage).")] = "tool",
    to: Annotated[
        str | None, typer.Option("--to", help="With --level field --focus A: the other tool of the pair.")
    ] = None,
    field: Annotated[
        str | None, typer.Option("--field", help="With --level field: one field's writers and everything downstream.")
    ] = None,
    detail: Annotated[
        str,
        typer.Option(
            "--detail",
            help="auto|full|leaves|capability. auto draws every tool up to 40, then folds tools with one "
            "neighbour into '+N tools' per capability, then collapses each capability into one node.",
        ),
    ] = "auto",
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Draw the stack's architecture: tools clustered by capability, flows coloured by health and labelled with
    what flows. --focus TOOL --hops N for one tool's neighbourhood; --level field with --focus A --to B, or with
    --field ID, for field-level lineage. Same snapshot, same DOT and Mermaid bytes."""

    def body() -> int:
        from .commands import do_diagram

        if fmt not in ("svg", "png", "dot", "mermaid"):
            raise typer.BadParameter("--format must be svg, png, dot or mermaid")
        if fmt == "png" and output is None and sys.stdout.isatty():
            raise typer.BadParameter("PNG is binary: pass --output FILE")
        data = do_diagram(
            config, snapshot, fmt=fmt, focus=focus, hops=hops, level=level, to=to, field=field, detail=detail
        )
        _write(data, output)
        return EXIT_OK

    _run(body, debug)


@snapshots_app.callback(invoke_without_command=True)
def snapshots(
    ctx: typer.Context,
    config: ConfigOpt = DEFAULT_CONFIG,
    debug: DebugOpt = False,
) -> None:
    """List stored snapshots: date, sources, size and completeness."""
    if ctx.invoked_subcommand is not None:
        return

    def body() -> int:
        from .commands import do_snapshots

        do_snapshots(config, console=out)
        return EXIT_OK

    _run(body, debug)


@app.command()
def rules(
    rule_id: Annotated[str | None, typer.Argument(help="Explain one rule, e.g. OF001.")] = None,
    config: ConfigOpt = DEFAULT_CONFIG,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table|md|json")] = "table",
    debug: DebugOpt = False,
) -> None:
    """List the rule catalogue, or explain one rule: rationale, parameters, example and fix."""

    def body() -> int:
        from .commands import do_rules

        do_rules(rule_id, fmt=fmt, console=out)
        return EXIT_OK

    _run(body, debug)


@app.command()
def schema(
    artifact: Annotated[str, typer.Option("--artifact", "-a", help="snapshot|findings")] = "snapshot",
    output: OutputOpt = None,
    debug: DebugOpt = False,
) -> None:
    """Print the JSON Schema of a snapshot or of findings.json."""

    def body() -> int:
        from .commands import json_schema

        _write(json_schema(artifact), output)
        return EXIT_OK

    _run(body, debug)


@app.command()
def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the demo's outputs.")] = Path(
        "stackaudit-demo"
    ),
    debug: DebugOpt = False,
) -> None:
    """Run the whole pipeline on a bundled sample company and write its report, findings and diagram."""

    def body() -> int:
        from .demo.run import run_demo

        return run_demo(output, console=out)

    _run(body, debug)


def _register_extensions() -> None:
    from . import cli_explore, cli_history, cli_rules

    cli_rules.register(app)
    cli_explore.register(app)
    cli_history.register(app)


_register_extensions()


def main() -> None:
    """Entry point of the ``stackaudit`` script."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    app()


if __name__ == "__main__":
    main()
