"""The tables of BENCHMARKS.md, from the figures ``python -m benchmarks`` collects (a JSON file).

python -m benchmarks.markdown benchmarks/results/latest.json
"""

from __future__ import annotations

import itertools
import json
import math
import sys
from pathlib import Path
from typing import Any

from benchmarks.floor import per_doubling

COMMAND = ".venv/bin/python -m benchmarks"


def _n(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _share(a: Any, b: Any) -> Any:
    return a / b if a is not None and b else None


def connector_table(rows: list[dict[str, Any]]) -> str:
    header = ["vendor", "size", "stack", "calls", "wall s", "floor s", "ratio", "paced floor s", "throttled",
              "CPU s", "peak RSS MB", "naive calls", "naive floor s", "calls / naive", "fill calls",
              "naive fill calls", "fill / naive", "status", "command"]  # fmt: skip
    body = [
        [r["vendor"], r["size"], r["stack"], _n(r["calls"]), _n(r["wall_s"]), _n(r["floor_s"]), _n(r["ratio"], 2),
         _n(r.get("floor_at_pace_s")), _n(r["throttled"]), _n(r.get("cpu_s")), _n(r["peak_rss_mb"], 0),
         _n(r.get("naive_calls")), _n(r.get("naive_floor_s")), _n(r.get("share_of_naive"), 3),
         _n(r.get("fill_calls")), _n(r.get("naive_fill_calls")),
         _n(_share(r.get("fill_calls"), r.get("naive_fill_calls")), 3), r["status"],
         f"`{COMMAND}.connectors {r['vendor']} {r['size']} --latency {r['latency_s']}`"]
        for r in sorted(rows, key=lambda r: (r["vendor"], "XS S M L XL".split().index(r["size"])))
    ]  # fmt: skip
    return _table(header, body)


def repeat_table(rows: list[dict[str, Any]]) -> str:
    header = ["size", "stack", "first pull calls", "describes (first)", "repeat calls", "describes (repeat)",
              "repeat / first", "repeat wall s", "notes"]  # fmt: skip
    body = [
        [r["size"], r["stack"], _n(r["calls"]), _n(r.get("first_describes")), _n(r["repeat_calls"]),
         _n(r.get("repeat_describes")), _n(r["repeat_calls"] / r["calls"], 3), _n(r["repeat_wall_s"]),
         "; ".join(n for n in r.get("repeat_notes", []) if n.startswith(("describes:", "Tooling")))]
        for r in rows if r["vendor"] == "salesforce" and "repeat_calls" in r
    ]  # fmt: skip
    return _table(header, body)


PIPELINE_COLUMNS = [
    ("fields", "fields", 0), ("file_mb", "snapshot MB (gz)", 2), ("load_s", "load s (floor)", 2),
    ("load_validate_json_s", "load, JSON mode s", 2), ("load_validate_json_nogc_s", "JSON mode, GC paused s", 2),
    ("audit_s", "audit s", 2), ("diagram_s", "diagram s", 2), ("render_s", "render s", 2),
    ("audit_report_s", "audit + report s", 2), ("html_mb", "HTML MB", 2), ("rss_mb_after_report", "peak RSS MB", 0),
    ("diff_s", "diff s", 2), ("diff_exact", "diff exact", 0), ("rss_mb_after_diff", "peak RSS with diff MB", 0),
]  # fmt: skip


def pipeline_table(rows: list[dict[str, Any]]) -> str:
    header = [title for _, title, _ in PIPELINE_COLUMNS] + ["command"]
    body = [
        [_n(r.get(key), digits) for key, _, digits in PIPELINE_COLUMNS] + [f"`{COMMAND}.pipeline {r['requested']}`"]
        for r in sorted(rows, key=lambda r: r["fields"])
    ]
    return _table(header, body)


GROWTH_KEYS = [("load_s", "load"), ("audit_s", "audit"), ("report_s", "report"), ("audit_report_s", "audit + report"),
               ("diff_s", "diff")]  # fmt: skip


def growth_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per pair of consecutive sizes: the time ratio and the factor per doubling of fields, per stage."""
    ordered = sorted(rows, key=lambda r: r["fields"])
    out = []
    for small, large in itertools.pairwise(ordered):
        row: dict[str, Any] = {"from": small["fields"], "to": large["fields"]}
        for key, _ in GROWTH_KEYS:
            if small.get(key) and large.get(key):
                row[key] = (
                    large[key] / small[key],
                    per_doubling(small[key], large[key], small["fields"], large["fields"]),
                )
        out.append(row)
    return out


def growth_table(rows: list[dict[str, Any]]) -> str:
    header = ["from → to fields"] + [f"{title} (ratio / per doubling)" for _, title in GROWTH_KEYS]
    body = []
    for g in growth_rows(rows):
        cells = [f"{g['from']:,} → {g['to']:,}"]
        for key, _ in GROWTH_KEYS:
            cells.append(f"{g[key][0]:.2f}× / {g[key][1]:.2f}" if key in g else "–")
        body.append(cells)
    return _table(header, body)


def render(figures: dict[str, Any]) -> str:
    machine = figures.get("machine", {})
    parts = [
        "## Machine\n",
        "\n".join(f"- {k}: {v}" for k, v in machine.items()),
        f"\n## Connectors (latency {figures.get('latency_s', 0.1)} s a request, vendors' limits enforced)\n",
        connector_table(figures.get("connectors", [])),
        "\n## Salesforce repeat pull (describe cache, conditional requests)\n",
        repeat_table(figures.get("connectors", [])),
        "\n## Pipeline\n",
        pipeline_table(figures.get("pipeline", [])),
        "\n### Growth\n",
        growth_table(figures.get("pipeline", [])),
    ]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    path = Path(args[0] if args else "benchmarks/results/latest.json")
    print(render(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
