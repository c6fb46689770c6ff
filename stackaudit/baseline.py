"""Baseline files: the fingerprints of findings accepted as known, so CI fails only on new ones.

Format (JSON, written by ``stackaudit baseline``)::

    {"schema_version": 1, "created_at": "...", "snapshot_id": "...", "fingerprints": ["3f2a...", ...]}

Fingerprints depend only on the rule and the subjects' ids, so a baseline survives changing titles and figures.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from stackaudit_inventory import AuditResult, FindingStatus, InputError

from .outputs import write_atomic

__all__ = ["Baseline", "baseline_fingerprints", "load_baseline", "write_baseline"]


class Baseline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: int = 1
    created_at: datetime
    snapshot_id: str
    fingerprints: list[str]


def load_baseline(path: Path) -> set[str]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: baseline file not found (create one with `stackaudit baseline`)") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a readable baseline file: {exc}") from None
    try:
        return set(Baseline.model_validate(data).fingerprints)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise InputError(f"{path}: {key}: {first['msg']}") from None


def baseline_fingerprints(result: AuditResult) -> list[str]:
    """What a baseline records: the sorted fingerprints of every finding that is not waived (waived findings are
    already accepted, with an owner and an expiry, and must come back when the waiver ends)."""
    return sorted({f.fingerprint for f in result.findings if f.status is not FindingStatus.waived})


def write_baseline(path: Path, result: AuditResult) -> Path:
    """Record every finding that is not waived as known."""
    baseline = Baseline(
        created_at=result.generated_at, snapshot_id=result.snapshot_id, fingerprints=baseline_fingerprints(result)
    )
    return write_atomic(path, baseline.model_dump_json(indent=2) + "\n")
