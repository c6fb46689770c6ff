"""Report and diagram benchmark: the 100,000-field report's size and time to usable in headless chromium, and the
300-tool diagram's render time.

    .venv/bin/python benchmarks/report_bench.py [--fields 100000] [--tools 300] [--runs 3] [--json out.json]

What is measured, and how:

- report: a synthetic 100,000-field stack (tests/reports/synthetic.py: six big tools, 5,000 workflows, 60
  integrations, 3,000 orphaned-field findings) with field impact computed from the stack graph, rendered to one
  HTML file. "Usable" is the moment the report's script has parsed the data and drawn the field explorer's
  first page (``window.stackauditReadyAt``, milliseconds from navigation start, set by the script itself);
  taken over ``--runs`` fresh pages of one Debian chromium (Playwright), median reported. Then the latency of a
  search (first one: builds the search index) and of a sort over all 100,000 rows.
- diagram: a 300-tool export in 30 capabilities rendered to SVG with the in-process WebAssembly Graphviz (the
  renderer a fresh install uses), at ``auto`` detail and in ``full``; the time covers layout and SVG output.

Targets (issue 7): report < 30 MB and usable < 3 s; diagram < 10 s. The figures depend on the machine and on
its load: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _synthetic() -> ModuleType:
    spec = importlib.util.spec_from_file_location("report_synthetic", ROOT / "tests" / "reports" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - started


def bench_report(n_fields: int, runs: int, folder: Path) -> dict[str, Any]:
    from stackaudit.impact import build_field_impact
    from stackaudit_reports.html import render_html

    synthetic = _synthetic()
    (snapshot, result), build_s = _timed(synthetic.build_large_stack, n_fields)
    impact, impact_s = _timed(build_field_impact, snapshot)
    html, render_s = _timed(render_html, snapshot, result, now=synthetic.NOW, diagram_svg=None, impact=impact)
    path = folder / "report-100k.html"
    path.write_text(html, encoding="utf-8")
    out: dict[str, Any] = {
        "fields": len(snapshot.fields),
        "linked_fields": len(impact.fields),
        "findings": len(result.findings),
        "size_mb": round(path.stat().st_size / 1_000_000, 2),
        "build_snapshot_s": round(build_s, 2),
        "impact_s": round(impact_s, 2),
        "render_s": round(render_s, 2),
    }
    out.update(_browser(path, runs, n_fields))
    return out


def _browser(path: Path, runs: int, n_fields: int) -> dict[str, Any]:
    from playwright.sync_api import expect, sync_playwright

    usable, loaded = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for _ in range(runs):
                page = browser.new_page(viewport={"width": 1360, "height": 900})
                errors: list[str] = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                page.goto(path.as_uri())
                page.wait_for_selector("html[data-explorer-ready]", state="attached", timeout=60_000)
                usable.append(page.evaluate("window.stackauditReadyAt") / 1000)
                nav = page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
                loaded.append(nav / 1000)
                if errors:
                    raise SystemExit(f"page errors: {errors}")
                page.close()
            page = browser.new_page(viewport={"width": 1360, "height": 900})
            page.goto(path.as_uri())
            page.wait_for_selector("html[data-explorer-ready]", state="attached", timeout=60_000)
            count = page.locator("#field-count")
            started = time.perf_counter()
            page.fill("#field-filters input[name=q]", "field 012345")
            expect(count).to_have_text(f"1–1 of 1 fields ({n_fields:,} in all)")
            search_s = time.perf_counter() - started  # includes the 120 ms typing debounce
            page.fill("#field-filters input[name=q]", "")
            expect(count).to_contain_text(f"of {n_fields:,} fields")
            started = time.perf_counter()
            page.click("#field-table th[data-key=fill] button")
            expect(page.locator("#field-table th[data-key=fill]")).to_have_attribute("aria-sort", "descending")
            sort_s = time.perf_counter() - started
        finally:
            browser.close()
    return {
        "usable_s_median": round(statistics.median(usable), 2),
        "usable_s_runs": [round(u, 2) for u in usable],
        "load_event_s_median": round(statistics.median(loaded), 2),
        "first_search_s": round(search_s, 2),
        "sort_all_s": round(sort_s, 2),
    }


def bench_diagram(n_tools: int) -> dict[str, Any]:
    import shutil

    from stackaudit_reports import diagram
    from stackaudit_reports._simplify import simplify

    graph = _synthetic().build_wide_graph(n_tools)
    out: dict[str, Any] = {"tools": n_tools, "flows": len(graph.edges), "system_dot": bool(shutil.which("dot"))}
    # The in-process WebAssembly Graphviz, as on a fresh install; start its runtime once outside the timings.
    original = diagram.shutil.which
    diagram.shutil.which = lambda name: None  # type: ignore[assignment]
    try:
        diagram.render("digraph { a }", "svg")
        for detail in ("auto", "full"):
            dot, build_s = _timed(diagram.build_dot, graph, f"{n_tools} tools", detail=detail)
            svg, render_s = _timed(diagram.render, dot, "svg")
            out[detail] = {
                "applied": simplify(graph, detail).detail,
                "nodes_drawn": svg.count(b'class="node"'),
                "build_dot_s": round(build_s, 3),
                "render_svg_s": round(render_s, 2),
                "svg_kb": round(len(svg) / 1000),
            }
    finally:
        diagram.shutil.which = original  # type: ignore[assignment]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fields", type=int, default=100_000)
    parser.add_argument("--tools", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="Also write the figures here.")
    parser.add_argument("--skip-browser", action="store_true", help="Only the diagram (no chromium needed).")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    figures: dict[str, Any] = {"diagram": bench_diagram(args.tools)}
    if not args.skip_browser:
        with tempfile.TemporaryDirectory() as folder:
            figures["report"] = bench_report(args.fields, args.runs, Path(folder))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    report = figures.get("report")
    ok = figures["diagram"]["auto"]["render_svg_s"] < 10 and figures["diagram"]["full"]["render_svg_s"] < 10
    if report:
        ok = ok and report["size_mb"] < 30 and report["usable_s_median"] < 3
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
