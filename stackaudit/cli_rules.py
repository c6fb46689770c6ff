"""Extra CLI commands registered on the main app (kept apart from cli.py so areas evolve independently)."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add this module's commands to ``app``."""
