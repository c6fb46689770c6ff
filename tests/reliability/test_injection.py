"""Hostile strings from the manifest and from vendors, through pull, audit, report and diagram (the real renderers).

Tool names in the manifest, HubSpot property labels, descriptions and option labels, and Segment destination names
carry XSS, DOT/Mermaid breakers (quotes, brackets, braces, newlines), Markdown breakers and spreadsheet formulas.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from stackaudit.cli import app

from .conftest import (
    ROOT,
    SECRETS,
    body_json,
    fast_connectors,
    intercept,
    record,
    serve_stack,
    write_config,
)

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'
GRAPH = 'Evil" ]; evil [label="pwn"] {braces} --> Z'
TOOL_NAMES = {
    "calendly": f'=HYPERLINK("http://evil.example/x","c") {XSS} {GRAPH}',
    # Diagram labels are shortened: the breakers come first so they survive the cut.
    "hightouch": 'E"]; pwn [x="y"] {b}\nnew line <script>alert(1)</script>',
    "appcues": "@SUM(1+1) | md pipe [link](javascript:alert(1))\nnew line -->",
    "drift": "+cmd|' /C calc'!A0",
}
VENDOR_TEXT = f"{XSS}\n{GRAPH}"


def _hostile_vendor(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _hostile_vendor(v) for k, v in value.items()}
        for key in ("label", "description", "displayName"):
            if isinstance(out.get(key), str) and out[key]:
                out[key] = VENDOR_TEXT
        return out
    if isinstance(value, list):
        return [_hostile_vendor(v) for v in value]
    return value


def hostile(fake: Any) -> None:
    def rewrite(n: int, result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
        data = body_json(result[1])
        if data is None:
            return None
        return result[0], json.dumps(_hostile_vendor(data)).encode(), *result[2:]

    intercept(fake, rewrite)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("injection")
    manifest = yaml.safe_load((ROOT / "stackaudit" / "demo" / "data" / "stack.yaml").read_text(encoding="utf-8"))
    for tool in manifest["tools"]:
        if tool["id"] in TOOL_NAMES:
            tool["name"] = TOOL_NAMES[tool["id"]]
    (tmp / "stack.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    for name in ("mappings.csv",):
        src = ROOT / "stackaudit" / "demo" / "data" / name
        if src.exists():
            (tmp / name).write_bytes(src.read_bytes())
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp, serve_stack() as stack:
        fast_connectors(mp, {})
        for name, value in SECRETS.items():
            mp.setenv(name, value)
        hostile(stack.hubspot)
        hostile(stack.segment)
        write_config(tmp, stack.urls, manifest=tmp / "stack.yaml")
        config = str(tmp / "stackaudit.yaml")
        results = [runner.invoke(app, ["pull", "--config", config])]
        results.append(runner.invoke(app, ["audit", "-f", "csv", "-o", str(tmp / "findings.csv"), "-c", config]))
        results.append(runner.invoke(app, ["audit", "-f", "md", "-o", str(tmp / "findings.md"), "-c", config]))
        results.append(runner.invoke(app, ["audit", "-f", "json", "-o", str(tmp / "findings.json"), "-c", config]))
        results.append(runner.invoke(app, ["report", "-o", str(tmp / "report.html"), "-c", config]))
        results.append(runner.invoke(app, ["diagram", "-f", "dot", "-o", str(tmp / "diagram.dot"), "-c", config]))
        results.append(runner.invoke(app, ["diagram", "-f", "mermaid", "-o", str(tmp / "diagram.mmd"), "-c", config]))
    for r in results:
        assert r.exception is None or isinstance(r.exception, SystemExit), r.output
        assert r.exit_code in (0, 1, 3), r.output
    kinds = (".csv", ".md", ".json", ".html", ".dot", ".mmd")
    return {p.name: p.read_text(encoding="utf-8") for p in tmp.iterdir() if p.suffix in kinds
            and p.name not in ("mappings.csv",)}


def _check(area: str, fault: str, expected: str, problems: list[str], evidence: str) -> None:
    observed = "; ".join(problems) if problems else evidence
    record("Output injection (hostile names through the real renderers)", area, fault, expected, observed, not problems)
    assert not problems, problems


def test_html_escapes_markup(outputs: dict[str, str]) -> None:
    html = outputs["report.html"]
    problems = [p for p in ("<script>alert(", "<img src=x", "</script><script>") if p in html]
    escaped = "&lt;script&gt;" in html or "\\u003cscript" in html or "\\u003c/script" in html
    evidence = f"payload present, escaped: {escaped}"
    if not escaped:
        problems.append("no hostile name reached the HTML: the test proves nothing")
    _check("HTML report", "<script>, <img onerror> in tool names, labels, descriptions, options",
           "escaped in markup and in the embedded JSON", problems, evidence)


def test_csv_neutralises_formulas(outputs: dict[str, str]) -> None:
    rows = list(csv.reader(io.StringIO(outputs["findings.csv"])))
    bad = [c for row in rows for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    hits = sum("HYPERLINK" in c or "SUM(1+1)" in c or "calc" in c for row in rows for c in row)
    problems = [f"cell starts a formula: {c[:40]!r}" for c in bad]
    if not hits:
        problems.append("no hostile name reached the CSV: the test proves nothing")
    _check("findings CSV", "cells starting with = + - @", "prefixed with ' so spreadsheets show text", problems,
           f"{hits} hostile cells, all neutralised")


def test_markdown_keeps_its_structure(outputs: dict[str, str]) -> None:
    md = outputs["findings.md"]
    problems = []
    if re.search(r"(?<!\\)<(script|img|/script)", md):
        problems.append("raw HTML in Markdown (a < not escaped)")
    if any(line.startswith("new line") for line in md.splitlines()):
        problems.append("a newline in a name broke a line")
    if re.search(r"(?<!\\)\| md pipe", md):
        problems.append("an unescaped | in a name splits a table cell")
    if re.search(r"(?<!\\)\]\(javascript:", md):
        problems.append("a javascript: link is live")
    _check("findings Markdown", "HTML, pipes, links, newlines in names", "escaped; tables and lines intact",
           problems, f"{md.count('md pipe')} hostile cells, all escaped")


def test_dot_and_mermaid_labels_cannot_break_out(outputs: dict[str, str]) -> None:
    dot, mmd = outputs["diagram.dot"], outputs["diagram.mmd"]
    problems = []
    if re.search(r'(?<!\\)" ?\]; (evil|pwn)', dot):
        problems.append("DOT: an unescaped quote ends a label")
    if any(line.lstrip().startswith("new line") for line in dot.splitlines() + mmd.splitlines()):
        problems.append("a newline in a name started a new statement")
    if '"]; pwn' in mmd or '" ]; evil' in mmd or "<script>" in mmd or "<img src=x" in mmd:
        problems.append("Mermaid: a quote or HTML in a label is live")
    if "pwn" not in dot or "pwn" not in mmd:
        problems.append("no hostile name reached the diagrams: the test proves nothing")
    _check("DOT and Mermaid diagrams", "quotes, brackets, braces, newlines, HTML in tool names",
           "escaped inside labels", problems, "escaped")
