"""The HTML report: sections, escaping of every user string, no network, JSON island and inline SVG safety."""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import re
from datetime import datetime
from html.parser import HTMLParser

import pytest

from stackaudit_inventory import AuditResult, Finding, Snapshot, fingerprint
from stackaudit_reports.diagram import DiagramError, build_dot, render
from stackaudit_reports.html import inline_svg, json_for_script, render_html

XSS = "<script>alert(1)</script>"
XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


class _Page(HTMLParser):
    """Collects ids, fragment links, and the text of each script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.fragment_links: set[str] = set()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attrs_d = dict(attrs)
        if attrs_d.get("id"):
            self.ids.add(str(attrs_d["id"]))
        href = attrs_d.get("href")
        if tag == "a" and href and href.startswith("#"):
            self.fragment_links.add(href[1:])
        if tag == "script":
            self._in_script = attrs_d
            self.scripts.append((attrs_d, ""))

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def _page(html: str) -> _Page:
    parser = _Page()
    parser.feed(html)
    parser.close()
    return parser


@pytest.fixture
def html(snapshot: Snapshot, result: AuditResult, now: datetime) -> str:
    svg = render(build_dot(result.graph, snapshot.stack), "svg").decode("utf-8")
    return render_html(snapshot, result, now=now, diagram_svg=svg)


@pytest.fixture
def hostile_html(hostile_snapshot: Snapshot, hostile_result: AuditResult, now: datetime) -> str:
    svg = render(build_dot(hostile_result.graph, hostile_snapshot.stack), "svg").decode("utf-8")
    return render_html(hostile_snapshot, hostile_result, now=now, diagram_svg=svg)


def test_report_has_every_section_and_working_anchors(html: str) -> None:
    assert html.startswith("<!doctype html>")
    page = _page(html)
    for section in ("summary", "findings", "inconclusive", "inventory", "integrations", "coverage", "diagram"):
        assert section in page.ids
    assert {"cat-orphaned-field", "cat-redundant-tool", "cat-unused-tool", "cat-broken-sync"} <= page.ids
    # Every in-page link (headline figures, navigation, fingerprints) lands somewhere.
    assert page.fragment_links <= page.ids
    assert html.count('class="headline ') == 5
    assert "<svg" in html and "Salesforce" in html


def test_findings_show_evidence_not_checked_remediation_and_waiver(html: str) -> None:
    assert "0 of 12,000 records hold a value" in html
    assert "Reports could not be read (scope)" in html
    assert "Cancel one before its notice date" in html
    assert "Kept for audit" in html and "expired" in html
    assert 'class="pill waived"' in html and 'class="pill baselined"' in html


def test_hostile_strings_are_text_everywhere(hostile_html: str) -> None:
    assert XSS not in hostile_html
    # Stack name, tool name, owner, field label, finding title, evidence, not-checked, remediation, waiver
    # reason, source error, coverage reason, integration error sample, inconclusive reason, diagram labels.
    assert hostile_html.count(XSS_ESCAPED) >= 14
    for where in (
        f"HubSpot {XSS_ESCAPED}",  # tool name
        f"Jane Ops {XSS_ESCAPED}",  # owner
        f"Legacy Score {XSS_ESCAPED}",  # field label
        f"Custom field Legacy Score is empty and unreferenced {XSS_ESCAPED}",  # finding title
        f"0 of 12,000 records hold a value {XSS_ESCAPED}",  # evidence
    ):
        assert where in hostile_html
    # Only the report's own two script elements exist, and no comment was injected.
    assert hostile_html.count("<script") == 2
    assert hostile_html.count("</script") == 2
    assert "<!--" not in hostile_html
    page = _page(hostile_html)
    assert [attrs.get("type") for attrs, _ in page.scripts] == ["application/json", None]


def test_no_external_resources(html: str, hostile_html: str) -> None:
    for page in (html, hostile_html):
        lowered = page.lower()
        assert 'src="http' not in lowered and "src='http" not in lowered
        assert not re.search(r"<link\b", lowered)
        assert "@import" not in lowered
        assert "url(http" not in lowered and "url(//" not in lowered
        assert 'href="http' not in lowered and 'href="//' not in lowered


def test_csp_allows_only_the_reports_own_script(html: str) -> None:
    page = _page(html)
    script = page.scripts[-1][1]
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    match = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert match is not None
    csp = html_lib.unescape(match.group(1))  # the attribute value as the browser reads it
    assert "default-src 'none'" in csp
    assert f"script-src 'sha256-{digest}'" in csp


def test_print_styles_and_filter_are_present(html: str) -> None:
    assert "@media print" in html
    assert 'id="finding-filters"' in html and 'name="q"' in html


def test_json_island_is_escaped_and_round_trips(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    evil_tool = "</script><script>alert(1)</script>\u2028\u2029&amp;<!--"
    subjects = ["hubspot:contacts.x"]
    extra = Finding(
        fingerprint=fingerprint("HY001", subjects),
        rule="HY001",
        category="hygiene",
        severity="low",
        subjects=subjects,
        title="t",
        remediation="r",
        tools=[evil_tool],
    )
    result = result.model_copy(update={"findings": [*result.findings, extra]})
    html = render_html(snapshot, result, now=now, diagram_svg=None)
    page = _page(html)
    attrs, raw = page.scripts[0]
    assert attrs == {"type": "application/json", "id": "report-data"}
    for ch in ("<", ">", "&", "\u2028", "\u2029"):
        assert ch not in raw
    data = json.loads(raw)
    assert evil_tool in {t for f in data["findings"] for t in f["tools"]}
    assert html.count("<script") == 2


def test_json_for_script_escapes_html_significant_characters() -> None:
    value = {"a": "</script><!-- & \u2028 \u2029 >", "b": [1, 2]}
    out = json_for_script(value)
    assert not set(out) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(out) == value


def test_no_diagram_leaves_a_note(snapshot: Snapshot, result: AuditResult, now: datetime) -> None:
    html = render_html(snapshot, result, now=now, diagram_svg=None)
    assert "No diagram was rendered" in html
    assert "<svg" not in html


def test_inline_svg_strips_prolog_and_anything_active() -> None:
    svg = (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n'
        "<!-- Generated by graphviz -->\n"
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" onload="evil()">'
        '<g id="graph0"><title>a&lt;b</title><script>alert(1)</script>'
        '<foreignObject><div xmlns="http://www.w3.org/1999/xhtml">x</div></foreignObject>'
        '<image xlink:href="http://evil/x.png"/>'
        '<a xlink:href="javascript:alert(1)" xlink:title="tip"><text fill="url(http://evil/x)" x="1">t</text></a>'
        '<polygon fill="white" style="background:url(http://evil)" points="0,0 1,1"/>'
        "</g></svg>"
    )
    out = inline_svg(svg)
    assert out.startswith("<svg ")
    for bad in ("<?xml", "DOCTYPE", "<!--", "script", "foreignObject", "image", "onload", "javascript:", "evil"):
        assert bad not in out
    assert "<title>a&lt;b</title>" in out
    assert 'xlink:title="tip"' in out
    assert 'fill="white"' in out


@pytest.mark.parametrize("bad", ["<svg><g></svg>", "<html></html>", "not xml at all"])
def test_inline_svg_rejects_what_it_cannot_embed(bad: str) -> None:
    with pytest.raises(DiagramError) as err:
        inline_svg(bad)
    assert "\n" not in str(err.value)
