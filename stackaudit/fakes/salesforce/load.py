"""Building a :class:`FakeOrg` from a description (JSON file or mapping)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from .org import FakeOrg, build_sobject, parse_time, sf_id
from .tables import build_tables

__all__ = ["expand_field_series", "load_org"]


def expand_field_series(series: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Field specs for every combination of a series' ``vary`` values, in order.

    ``{"name": "PU_{feature}_{metric}__c", "label": "{feature} {metric}", "vary": {"feature": ["Alerts"],
    "metric": ["Users_7d", "Users_30d"]}, "type": "double"}`` gives ``PU_Alerts_Users_7d__c`` and
    ``PU_Alerts_Users_30d__c``. ``name``, ``label`` and ``description`` are formatted (underscores in a label
    become spaces); every other key is copied to each field. This keeps a wide object (hundreds of columns a
    reverse-ETL tool writes) readable in a recorded org.
    """
    out: list[dict[str, Any]] = []
    for entry in series:
        vary: Mapping[str, list[str]] = entry["vary"]
        keys = list(vary)
        template = {k: v for k, v in entry.items() if k != "vary"}
        for combo in itertools.product(*(vary[k] for k in keys)):
            values = dict(zip(keys, combo, strict=True))
            spec = dict(template)
            for key in ("name", "label", "description"):
                if key in spec:
                    text = str(spec[key]).format(**values)
                    spec[key] = text.replace("_", " ") if key == "label" else text
            out.append(spec)
    return out


def load_org(source: Mapping[str, Any] | str | Path) -> FakeOrg:
    """Build an org from a description (a mapping, or a path to a JSON file).

    Keys: ``clock``, ``org_id``, ``daily_limit``, ``daily_used``, ``users`` (``[{id, name}]``), ``objects``
    (API name -> ``{label, records, records_since, metadata_modified, fields: [...], field_series: [...]}``),
    ``other_objects`` (names only listed in describeGlobal), ``flows``, ``dependencies``, ``packages``,
    ``connected_apps``, ``licenses`` and ``quirks``. A field series describes many alike fields at once (see
    :func:`expand_field_series`).
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
        if spec.get("field_series"):
            spec = {**spec, "fields": [*spec.get("fields", []), *expand_field_series(spec["field_series"])]}
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
