"""Building a :class:`FakeOrg` from a description (JSON file or mapping)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from .org import FakeOrg, build_sobject, parse_time, sf_id
from .tables import build_tables

__all__ = ["load_org"]


def load_org(source: Mapping[str, Any] | str | Path) -> FakeOrg:
    """Build an org from a description (a mapping, or a path to a JSON file).

    Keys: ``clock``, ``org_id``, ``daily_limit``, ``daily_used``, ``users`` (``[{id, name}]``), ``objects``
    (API name -> ``{label, records, records_since, metadata_modified, fields: [...]}``), ``other_objects`` (names
    only listed in describeGlobal), ``flows``, ``dependencies``, ``packages``, ``connected_apps``, ``licenses``
    and ``quirks``.
    """
    data: Mapping[str, Any]
    if isinstance(source, str | Path):
        data = json.loads(Path(source).read_text(encoding="utf-8"))
    else:
        data = source
    clock = parse_time(data.get("clock", "2026-11-30T09:00:00Z"))
    default_since = clock - timedelta(days=365 * 3)
    org = FakeOrg(clock=clock, org_id=str(data.get("org_id") or sf_id("00D", "org")))
    org.daily_limit = int(data.get("daily_limit", org.daily_limit))
    org.daily_used = int(data.get("daily_used", org.daily_used))
    org.quirks = dict(data.get("quirks", {}))
    org.users = {str(u["id"]): str(u["name"]) for u in data.get("users", [])}
    for name, spec in data.get("objects", {}).items():
        org.objects[name.lower()] = build_sobject(name, spec, clock, default_since)
    for name in data.get("other_objects", []):
        org.objects.setdefault(name.lower(), build_sobject(name, {"fields": []}, clock, default_since))
    for obj in org.objects.values():
        # Metadata last changed a month before the clock unless the description says when.
        obj.metadata_modified = obj.metadata_modified or clock - timedelta(days=30)
    user = org.sobject("User")
    if user is not None:
        user.rows = {uid: {"Id": uid, "Name": uname} for uid, uname in org.users.items()}
    org.tables = build_tables(org, data)
    return org
