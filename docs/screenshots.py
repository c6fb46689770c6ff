"""Take the README's screenshots of the demo report with headless Debian chromium (Playwright, no download).

    .venv/bin/python docs/screenshots.py

Renders the demo company's report in-process at the demo's frozen clock (its vendors served from recorded
responses on loopback), as ``stackaudit report`` does (field impact and flow labels included), then writes
docs/summary.png, docs/procurement.png and docs/field-explorer.png (1360 px wide viewports).
"""

from __future__ import annotations

import tempfile
from importlib import resources
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from stackaudit.commands import audit_snapshot, diagram_svg
from stackaudit.config import load_config
from stackaudit.demo.run import DEMO_NOW
from stackaudit.impact import build_field_impact
from stackaudit.pipeline import run_pull
from stackaudit_reports.html import render_html

DOCS = Path(__file__).resolve().parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--hide-scrollbars"]


def demo_html() -> str:
    config = load_config(Path(str(resources.files("stackaudit.demo") / "data" / "stackaudit.yaml")))
    # The demo's vendors answer from their recorded responses on loopback, as in `stackaudit demo`.
    from stackaudit.demo.run import recorded_vendors

    with recorded_vendors(config) as (served, env):
        snapshot = run_pull(served, env=env, now=lambda: DEMO_NOW, options={"fill_rates": "sampled"}).snapshot
    result = audit_snapshot(config, snapshot, now=DEMO_NOW)
    return render_html(
        snapshot,
        result,
        now=DEMO_NOW,
        diagram_svg=diagram_svg(result, snapshot.stack, snapshot),
        impact=build_field_impact(snapshot),
    )


def _shot(page: Page, first: str, last: str, height: int | None, name: str) -> None:
    """A full-width picture from the top of section ``first`` to the bottom of ``last`` (or ``height`` px)."""
    top = page.evaluate(f"document.getElementById('{first}').getBoundingClientRect().top + window.scrollY") - 12
    bottom = page.evaluate(f"document.getElementById('{last}').getBoundingClientRect().bottom + window.scrollY") + 12
    clip = {"x": 0, "y": top, "width": 1360, "height": height or bottom - top}
    page.screenshot(path=str(DOCS / name), full_page=True, clip=clip)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        page_path = Path(folder) / "report.html"
        page_path.write_text(demo_html(), encoding="utf-8")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1360, "height": 1000}, device_scale_factor=1)
            page.goto(page_path.as_uri())
            page.wait_for_selector("html[data-explorer-ready]", state="attached")
            page.screenshot(path=str(DOCS / "summary.png"))
            # Full-page captures would paint the sticky navigation bar over the middle of the picture.
            page.evaluate("document.querySelector('nav.toc').style.position = 'static'")
            # Procurement: the figures, spend, seats and the renewal calendar.
            _shot(page, "procurement", "procurement", 2250, "procurement.png")
            # Field explorer: Salesforce's fields, ten a page, with Lead.Email's impact in the panel below.
            page.select_option("#field-filters select[name=size]", "10")
            tool = page.locator("#field-filters select[name=tool] option", has_text="Salesforce").first
            page.select_option("#field-filters select[name=tool]", tool.get_attribute("value"))
            page.fill("#impact-form input[name=field]", "salesforce:Lead.Email")
            page.click("#impact-form button[type=submit]")
            _shot(page, "fields", "impact", None, "field-explorer.png")
            browser.close()
    for name in ("summary.png", "procurement.png", "field-explorer.png"):
        print(DOCS / name)


if __name__ == "__main__":
    main()
