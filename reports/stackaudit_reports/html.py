"""The self-contained HTML report: one file, inline CSS and JS, no network, every string escaped.

Safety, in layers:

- jinja2 autoescapes every value and fails on an undefined one; the template marks only two values ``safe``:
  the JSON island (escaped here for a ``<script type="application/json">`` element) and the diagram SVG
  (re-serialised here from a parsed tree with scripts, event handlers and external references removed).
- A Content-Security-Policy in the page allows no network at all and runs only the report's own script,
  pinned by its SHA-256, so even a missed escape could not load or execute anything.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2

from stackaudit_inventory import AuditResult, Snapshot
from stackaudit_inventory.results import FieldImpactExport

from .changes import SnapshotChanges
from .diagram import DiagramError
from .history import HistorySection, build_history_view
from .viewmodel import ReportView, build_report_view

__all__ = ["inline_svg", "json_for_script", "render_html"]

_SVG_NS = "http://www.w3.org/2000/svg"
_XLINK_NS = "http://www.w3.org/1999/xlink"
# What Graphviz's SVG writer emits, minus anything that loads or runs (image, script, foreignObject, style).
_SVG_ELEMENTS = frozenset(
    {"svg", "g", "title", "desc", "polygon", "polyline", "ellipse", "circle", "path", "text", "a", "defs"}
    | {"rect", "line", "linearGradient", "radialGradient", "stop", "tspan"}
)
_PROLOG = re.compile(r"^\s*(?:<\?xml[^>]*\?>\s*)?(?:<!DOCTYPE[^>\[]*(?:\[[^\]]*\])?\s*>\s*)?", re.IGNORECASE)
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def json_for_script(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: no ``</script>``, ``<!--``, entity or line
    separator can end or alter the element, and ``JSON.parse`` reads it back unchanged."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return _JSON_ESCAPE_RE.sub(lambda m: _JSON_ESCAPES[m.group(0)], text)


_KNOWN_PREFIXES = {_XLINK_NS: "xlink:", "http://www.w3.org/XML/1998/namespace": "xml:"}


def _split(name: str) -> tuple[str | None, str]:
    if name.startswith("{"):
        uri, local = name[1:].split("}", 1)
        return uri, local
    return None, name


def _plain_name(name: str) -> str | None:
    """The attribute name as HTML's parser expects it (``fill``, ``xlink:title``); None for foreign ones."""
    uri, local = _split(name)
    if uri is None or uri == _SVG_NS:
        return local
    prefix = _KNOWN_PREFIXES.get(uri)
    return prefix + local if prefix else None


def _keep_attribute(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    local = name.rsplit(":", 1)[-1].lower()
    if local.startswith("on") or local == "style":
        return False
    if local == "href" and not lowered.startswith("#"):
        return False
    return "url(" not in lowered or "url(#" in lowered


def _clean(element: ET.Element) -> None:
    """Rewrite ``element`` in place with plain names and without anything that could load or run."""
    element.tag = _split(element.tag)[1]
    attrs = {}
    for key, value in element.attrib.items():
        name = _plain_name(key)
        if name is not None and _keep_attribute(name, value):
            attrs[name] = value
    element.attrib.clear()
    element.attrib.update(attrs)
    for child in list(element):
        child_uri, child_local = _split(child.tag) if isinstance(child.tag, str) else ("", "")
        if child_uri not in (None, _SVG_NS) or child_local not in _SVG_ELEMENTS:
            element.remove(child)
        else:
            _clean(child)


def inline_svg(svg: str) -> str:
    """An SVG document as markup to place inside HTML: prolog, doctype and comments dropped, and only drawing
    elements kept (no script, foreignObject, image, style, event handler or non-fragment link)."""
    text = _PROLOG.sub("", svg, count=1)
    try:
        root = ET.fromstring(text)  # noqa: S314 - our own Graphviz output; expat resolves no external entities
    except ET.ParseError as exc:
        raise DiagramError(f"report: the diagram SVG is not well-formed XML: {exc}") from None
    uri, local = _split(root.tag)
    if local != "svg" or uri not in (None, _SVG_NS):
        raise DiagramError(f"report: the diagram is not an SVG document (root element {local!r})")
    _clean(root)
    root.set("xmlns", _SVG_NS)
    root.set("xmlns:xlink", _XLINK_NS)
    root.set("role", "img")
    root.set("aria-label", "Architecture diagram")
    return ET.tostring(root, encoding="unicode")


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("stackaudit_reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _asset(name: str) -> str:
    return (resources.files("stackaudit_reports") / "templates" / name).read_text(encoding="utf-8")


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        "default-src 'none'; "
        f"script-src 'sha256-{digest}'; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:; "
        "base-uri 'none'; form-action 'none'"
    )


# The report's scripts, run as one inline script (one CSP hash): findings filter and tables, then the explorer.
_SCRIPTS = ("report.js", "explorer.js")


def render_html(
    snapshot: Snapshot,
    result: AuditResult,
    *,
    now: datetime,
    diagram_svg: str | None,
    impact: FieldImpactExport | None = None,
    changes: SnapshotChanges | None = None,
    history: HistorySection | None = None,
) -> str:
    """The report for ``result`` over ``snapshot``, dated ``now``, with ``diagram_svg`` inline (or a note).

    ``impact`` is the field impact computed from the stack graph (``stackaudit.impact.build_field_impact``); without
    it the field impact panel says it was not computed. ``changes`` fills the "since the last snapshot" slot.
    ``history`` fills the history section (``_history.html.j2``: the diff and trend sparklines).
    """
    view: ReportView = build_report_view(snapshot, result, now, impact=impact, changes=changes)
    script = "\n".join(_asset(name) for name in _SCRIPTS)
    template = _environment().get_template("report.html.j2")
    return template.render(
        view=view,
        css=_asset("report.css"),
        script=script,
        csp=_csp(script),
        data_json=json_for_script({"findings": list(view.finding_index), "fields": view.fields.payload}),
        diagram=inline_svg(diagram_svg) if diagram_svg else None,
        history=build_history_view(history) if history is not None else None,
    )
