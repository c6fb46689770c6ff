"""Config of the manifest connector: where the team's ``stack.yaml`` is."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from ..base import ConnectorConfig

__all__ = ["ManifestConfig"]


class ManifestConfig(ConnectorConfig):
    """The manifest is normally named by the top-level ``manifest:`` key of ``stackaudit.yaml``; a ``type:
    manifest`` entry under ``connectors:`` reads a second one (another team's declarations)."""

    type: str = Field(default="manifest", description="Always `manifest`.")
    path: Path = Field(
        description="The manifest file (`stack.yaml`). A relative path resolves against the config file's folder."
    )
