"""Findings exports: the versioned JSON contract, CSV for spreadsheets, Markdown for a ticket or a chat message.

- JSON is :class:`AuditResult` serialised as is (with ``schema_version``); :func:`findings_json_schema` is its
  JSON Schema, so consumers validate against the same model that wrote it.
- CSV has one row per finding. Vendor and user text lands in cells, so any cell a spreadsheet would read as a
  formula (starting ``=``, ``+``, ``-``, ``@``, tab or carriage return, also after leading spaces) gets a
  leading ``'`` (OWASP's advice for CSV injection).
- Markdown escapes every character that could start markup (emphasis, links, HTML, headings, list items,
  table pipes), so a field named ``*_[x](y)|`` shows as written.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from stackaudit_inventory import AuditResult, Finding, FindingStatus, Severity

__all__ = [
    "CSV_COLUMNS",
    "csv_cell",
    "findings_csv",
    "findings_json",
    "findings_json_schema",
    "findings_markdown",
    "md_code",
    "md_escape",
]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def findings_json(result: AuditResult, *, indent: int | None = 2) -> str:
    """``findings.json``: the audit result as written, ending with a newline."""
    return result.model_dump_json(indent=indent) + "\n"


def findings_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``findings.json``."""
    schema = AuditResult.model_json_schema()
    return {"$schema": JSON_SCHEMA_DIALECT, **schema}


# ------------------------------------------------------------------------------------------------- CSV

CSV_COLUMNS = (
    "fingerprint",
    "rule",
    "category",
    "severity",
    "status",
    "subjects",
    "title",
    "evidence",
    "remediation",
    "cost_at_stake",
    "tools",
    "not_checked",
    "waiver_owner",
    "waiver_reason",
    "waiver_expires",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: str) -> str:
    """A text cell a spreadsheet will not evaluate: a leading ``'`` when it could start a formula."""
    if value.startswith(_FORMULA_START) or value.lstrip(" ").startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv_row(f: Finding) -> list[str]:
    waiver = f.waiver
    text = [
        f.fingerprint,
        f.rule,
        f.category.value,
        f.severity.value,
        f.status.value,
        ";".join(f.subjects),
        f.title,
        "\n".join(f.evidence),
        f.remediation,
    ]
    cost = "" if f.cost_at_stake is None else f"{f.cost_at_stake:.2f}"
    rest = [
        ";".join(f.tools),
        "\n".join(f.not_checked),
        waiver.owner if waiver else "",
        waiver.reason if waiver else "",
        waiver.expires.isoformat() if waiver else "",
    ]
    # The cost is a number we formatted, not text from a vendor: left as a number for spreadsheet sums.
    return [csv_cell(v) for v in text] + [cost] + [csv_cell(v) for v in rest]


def findings_csv(result: AuditResult) -> str:
    """One row per finding (RFC 4180, CRLF line ends); list cells join with ``;`` (evidence with newlines)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for f in result.findings:
        writer.writerow(_csv_row(f))
    return out.getvalue()


# -------------------------------------------------------------------------------------------- Markdown

# Inline markup characters (CommonMark lets any ASCII punctuation be backslash-escaped); ``#`` and ``@`` also
# stop GitHub's issue links and mentions.
_MD_INLINE = re.compile(r"([\\`*_{}\[\]<>()#!|~&$@])")
# What could open a block when it starts a line or a list item: headings, quotes, lists, rules, setext.
_MD_BLOCK_START = re.compile(r"^(\s*)([-+=>])")
_MD_ORDERED_START = re.compile(r"^(\s*\d+)([.)])")
_MD_NEWLINES = re.compile(r"[\r\n\u2028\u2029\x0b\x0c\x85]+")


def md_escape(text: str) -> str:
    """Plain text for Markdown inline or table-cell context: one line, every markup character escaped."""
    flat = _MD_NEWLINES.sub(" ", text)
    escaped = _MD_INLINE.sub(r"\\\1", flat)
    escaped = _MD_BLOCK_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)
    # A digit cannot be escaped; the dot or parenthesis after it can ("1\. text" is not a list item).
    return _MD_ORDERED_START.sub(lambda m: m.group(1) + "\\" + m.group(2), escaped)


def md_code(text: str) -> str:
    """An inline code span that holds any text: the fence is longer than any backtick run inside."""
    flat = _MD_NEWLINES.sub(" ", text)
    longest = max((len(run) for run in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat.strip() else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _table_cell(text: str) -> str:
    return md_escape(text) or " "


def _finding_section(f: Finding) -> list[str]:
    head = f"### {md_escape(f.severity.value.upper())}: {md_escape(f.title)}"
    lines = [head, ""]
    meta = f"**Rule** {md_escape(f.rule)} · **Category** {md_escape(f.category.value)} · **Status** {f.status.value}"
    lines += [meta + f" · **Fingerprint** {md_code(f.fingerprint)}", ""]
    lines += ["**Subjects:** " + ", ".join(md_code(s) for s in f.subjects), ""]
    if f.cost_at_stake is not None:
        lines += [f"**At stake:** {f.cost_at_stake:,.0f} a year", ""]
    if f.evidence:
        lines += ["**Evidence**", "", *(f"- {md_escape(e)}" for e in f.evidence), ""]
    if f.not_checked:
        lines += ["**Not checked**", "", *(f"- {md_escape(n)}" for n in f.not_checked), ""]
    lines += [f"**Remediation:** {md_escape(f.remediation)}", ""]
    if f.waiver is not None:
        w = f.waiver
        lines += [
            f"**Waived** by {md_escape(w.owner)} until {w.expires.isoformat()} "
            f"(matched {md_code(w.subject)}): {md_escape(w.reason)}",
            "",
        ]
    return lines


def _sort_key(f: Finding) -> tuple[int, int, str, str]:
    status_rank = 0 if f.status is FindingStatus.open else 1
    return (status_rank, -f.severity.rank, f.category.value, f.fingerprint)


def findings_markdown(result: AuditResult) -> str:
    """A summary line, a table of findings (open first, worst first), then one section per finding."""
    findings = sorted(result.findings, key=_sort_key)
    counts = result.counts_by_severity()
    open_summary = ", ".join(f"{counts[s.value]} {s.value}" for s in reversed(Severity) if counts[s.value])
    lines = [
        f"## stackaudit findings: {md_escape(result.stack)}",
        "",
        f"Snapshot {md_code(result.snapshot_id)}, audited {result.generated_at.isoformat()}. "
        f"{sum(counts.values())} open ({open_summary or 'none'}), "
        f"{len(findings) - sum(counts.values())} waived or baselined, {len(result.inconclusive)} inconclusive.",
        "",
    ]
    if findings:
        lines += [
            "| Severity | Rule | Category | Status | Title | Subjects |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for f in findings:
            subjects = ", ".join(f.subjects[:3]) + (f" (+{len(f.subjects) - 3})" if len(f.subjects) > 3 else "")
            cells = [f.severity.value, f.rule, f.category.value, f.status.value, f.title, subjects]
            lines.append("| " + " | ".join(_table_cell(c) for c in cells) + " |")
        lines.append("")
        for f in findings:
            lines += _finding_section(f)
    else:
        lines += ["No findings.", ""]
    if result.inconclusive:
        lines += ["### Inconclusive checks", ""]
        lines += [
            f"- {md_escape(i.rule)} {md_code(i.subject)}: {md_escape(i.reason)}"
            for i in sorted(result.inconclusive, key=lambda i: (i.rule, i.subject))
        ]
        lines.append("")
    return "\n".join(lines)
