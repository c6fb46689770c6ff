"""``python -m benchmarks``: run the connector and pipeline benchmarks, each measurement in its own process, merge
the figures into a JSON file and print the tables of BENCHMARKS.md.

    python -m benchmarks                                  # connectors at S and M, pipeline at 10k and 100k fields
    python -m benchmarks --sizes L XL --vendors hubspot   # more rows, merged into the same file
    python -m benchmarks --fields 300000 --no-connectors
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks import markdown, stacks
from benchmarks.connectors import VENDORS

DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "latest.json"


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 1024 / 1024:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def child(module: str, *args: str, timeout: float) -> dict[str, Any]:
    """Run ``python -m benchmarks.<module> args`` and return the JSON object it prints (or the failure)."""
    cmd = [sys.executable, "-m", f"benchmarks.{module}", *args]
    started = time.monotonic()
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s", "command": " ".join(cmd[1:])}
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        return {"error": tail[0], "command": " ".join(cmd[1:]), "seconds": time.monotonic() - started}
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _merge(old: list[dict[str, Any]], new: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    merged = {tuple(r.get(k) for k in key): r for r in old}
    merged.update({tuple(r.get(k) for k in key): r for r in new})
    return list(merged.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--sizes", nargs="+", default=["S", "M"], choices=[stacks.SMOKE, *stacks.SIZES])
    parser.add_argument("--vendors", nargs="+", default=list(VENDORS), choices=VENDORS)
    parser.add_argument("--latency", type=float, default=0.1, help="Seconds added to every request (default 0.1).")
    parser.add_argument("--fields", nargs="+", type=int, default=[10_000, 100_000], help="Pipeline sizes.")
    parser.add_argument("--no-connectors", action="store_true")
    parser.add_argument("--no-pipeline", action="store_true")
    parser.add_argument(
        "--json", type=Path, default=DEFAULT_JSON, help="Figures merged here (default benchmarks/results/latest.json)."
    )
    parser.add_argument("--fresh", action="store_true", help="Replace the JSON file instead of merging into it.")
    parser.add_argument("--timeout", type=float, default=1800.0, help="Seconds one measurement may take.")
    args = parser.parse_args(argv)

    figures: dict[str, Any] = {}
    if args.json.exists() and not args.fresh:
        figures = json.loads(args.json.read_text(encoding="utf-8"))
    figures["machine"] = machine()
    figures["latency_s"] = args.latency
    connectors: list[dict[str, Any]] = []
    if not args.no_connectors:
        for size in args.sizes:
            for vendor in args.vendors:
                print(f"connector {vendor} {size} ...", file=sys.stderr, flush=True)
                row = child("connectors", vendor, size, "--latency", str(args.latency), timeout=args.timeout)
                if "error" in row:
                    print(f"  failed: {row['error']}", file=sys.stderr)
                    continue
                connectors.append(row)
    pipeline: list[dict[str, Any]] = []
    if not args.no_pipeline:
        for n in args.fields:
            print(f"pipeline {n:,} fields ...", file=sys.stderr, flush=True)
            row = child("pipeline", str(n), timeout=args.timeout)
            if "error" in row:
                print(f"  failed: {row['error']}", file=sys.stderr)
                continue
            pipeline.append({"requested": n, **row})
    figures["connectors"] = _merge(figures.get("connectors", []), connectors, ("vendor", "size"))
    figures["pipeline"] = _merge(figures.get("pipeline", []), pipeline, ("requested",))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(markdown.render(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
