"""Extra CLI commands registered on the main app (kept apart from cli.py so areas evolve independently).

``stackaudit baseline`` records today's open findings so that ``audit --baseline`` (or ``audit.baseline`` in the
config) marks them ``baselined`` and ``--fail-on`` fails only on new ones.
"""

# No `from __future__ import annotations`: typer reads the command's annotations at registration, and the option
# types are imported inside register() (cli.py imports this module once its own names exist).
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["BASELINE_FILE", "register"]

BASELINE_FILE = "baseline.json"


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
    # cli.py imports this module after defining these, so the import cannot be circular at runtime.
    from .cli import DEFAULT_CONFIG, EXIT_OK, ConfigOpt, DebugOpt, SnapshotOpt, _run, out

    @app.command()
    def baseline(
        config: ConfigOpt = DEFAULT_CONFIG,
        snapshot: SnapshotOpt = "latest",
        output: Annotated[
            Path | None,
            typer.Option(
                "--output",
                "-o",
                help=f"Baseline file to write (default: audit.baseline from the config, else {BASELINE_FILE} beside "
                "it).",
            ),
        ] = None,
        debug: DebugOpt = False,
    ) -> None:
        """Record the fingerprints of today's open findings, so later audits with --baseline flag only new ones."""

        def body() -> int:
            from .baseline import baseline_fingerprints, write_baseline
            from .commands import _load_snapshot, audit_snapshot
            from .config import load_config

            cfg = load_config(config)
            _, snap = _load_snapshot(cfg, snapshot)
            # Judge without any existing baseline: the new file holds every finding that is open today.
            result = audit_snapshot(cfg, snap, use_baseline=False)
            path = output or cfg.baseline_path or cfg.dir / BASELINE_FILE
            write_baseline(path, result)
            count = len(baseline_fingerprints(result))
            out.print(
                f"wrote {count} finding fingerprint{'s' if count != 1 else ''} of snapshot {snap.id} to {path}",
                markup=False,
            )
            if cfg.baseline_path is None or Path(path).resolve() != cfg.baseline_path.resolve():
                out.print(
                    f"use it with `stackaudit audit --baseline {path}`, or set audit.baseline in {cfg.path}",
                    markup=False,
                )
            return EXIT_OK

        _run(body, debug)
