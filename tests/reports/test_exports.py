"""Findings exports: JSON against its schema, CSV formula injection, Markdown escaping."""

from __future__ import annotations

import csv
import io
import json
import re

import jsonschema
import pytest

from stackaudit_inventory import FINDINGS_SCHEMA_VERSION, AuditResult, Finding, fingerprint
from stackaudit_reports.exports import (
    CSV_COLUMNS,
    csv_cell,
    findings_csv,
    findings_json,
    findings_json_schema,
    findings_markdown,
    md_code,
    md_escape,
)


def _with(result: AuditResult, **fields: object) -> AuditResult:
    subjects = fields.pop("subjects", ["hubspot:contacts.x"])
    assert isinstance(subjects, list)
    data: dict[str, object] = {
        "fingerprint": fingerprint("HY001", subjects),
        "rule": "HY001",
        "category": "hygiene",
        "severity": "low",
        "subjects": subjects,
        "title": "t",
        "remediation": "r",
    }
    data.update(fields)
    return result.model_copy(update={"findings": [Finding.model_validate(data)]})


# ------------------------------------------------------------------------------------------------ JSON


@pytest.mark.parametrize("which", ["result", "hostile_result"])
def test_json_validates_against_its_schema(which: str, request: pytest.FixtureRequest) -> None:
    result: AuditResult = request.getfixturevalue(which)
    schema = findings_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    data = json.loads(findings_json(result))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert data["schema_version"] == FINDINGS_SCHEMA_VERSION
    assert AuditResult.model_validate(data) == result


def test_schema_rejects_a_broken_document(result: AuditResult) -> None:
    data = json.loads(findings_json(result))
    data["findings"][0]["severity"] = "apocalyptic"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, findings_json_schema())


# ------------------------------------------------------------------------------------------------- CSV


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_one_row_per_finding(result: AuditResult) -> None:
    text = findings_csv(result)
    assert text.splitlines()[0].split(",") == list(CSV_COLUMNS)
    rows = _rows(text)
    assert len(rows) == len(result.findings)
    rt = next(r for r in rows if r["rule"] == "RT001")
    assert rt["subjects"] == "drift;intercom"
    assert rt["cost_at_stake"] == "18000.00"
    of = next(r for r in rows if r["status"] == "open" and r["rule"] == "OF001")
    assert of["evidence"] == "0 of 12,000 records hold a value\nNo workflow reads it"
    waived = next(r for r in rows if r["status"] == "waived")
    assert (waived["waiver_owner"], waived["waiver_expires"]) == ("Jane", "2025-01-01")


def test_csv_neutralises_formula_injection(result: AuditResult) -> None:
    hostile = _with(
        result,
        subjects=["=cmd|' /C calc'!A0", "ok"],
        title='=HYPERLINK("http://evil","click")',
        evidence=["+1+1", "plain"],
        remediation="-2+3",
        not_checked=["@SUM(A1)"],
        tools=["\tx"],
        rule=" =1+1",
    )
    rows = _rows(findings_csv(hostile))
    row = rows[0]
    assert row["title"] == '\'=HYPERLINK("http://evil","click")'
    assert row["subjects"] == "'=cmd|' /C calc'!A0;ok"
    assert row["evidence"] == "'+1+1\nplain"
    assert row["remediation"] == "'-2+3"
    assert row["not_checked"] == "'@SUM(A1)"
    assert row["tools"] == "'\tx"
    assert row["rule"] == "' =1+1"
    for column, value in row.items():
        assert not value.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r")), column


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("  =x", "'  =x"),
        ("a=b", "a=b"),
        ("", ""),
        ("salesforce:Lead.Status", "salesforce:Lead.Status"),
    ],
)
def test_csv_cell(value: str, expected: str) -> None:
    assert csv_cell(value) == expected


# -------------------------------------------------------------------------------------------- Markdown


def test_markdown_table_and_sections(result: AuditResult) -> None:
    md = findings_markdown(result)
    assert md.startswith("## stackaudit findings: Acme Corp\n")
    assert "| Severity | Rule | Category | Status | Title | Subjects |" in md
    table = [line for line in md.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(table) == 1 + len(result.findings)
    # Open findings first, worst first; waived and baselined at the end.
    assert table[1].startswith("| high | RT001") or table[1].startswith("| high | BS001")
    assert "**Not checked**" in md and "**Waived** by Jane until 2025-01-01" in md
    assert "### Inconclusive checks" in md
    assert md.endswith("\n")


def test_markdown_escapes_markup_and_pipes(result: AuditResult) -> None:
    title = "*bold* _it_ [link](http://evil) | pipe <b>html</b> `code` #12 @team ~~x~~ &amp;"
    hostile = _with(
        result,
        title=title,
        subjects=["a|b", "x`y"],
        evidence=["- not a list", "1. not ordered", "# not a heading", "> not a quote", "line\nbreak"],
        remediation="=== setext?",
    )
    md = findings_markdown(hostile)
    assert "<b>" not in md and "](http" not in md
    assert (
        r"\*bold\* \_it\_ \[link\]\(http://evil\) \| pipe \<b\>html\</b\> \`code\` \#12 \@team \~\~x\~\~ \&amp;" in md
    )
    # Every table row still has exactly seven cell borders once escaped pipes are discounted.
    for line in md.splitlines():
        if line.startswith("| "):
            assert len(re.findall(r"(?<!\\)\|", line)) == 7, line
    assert "- \\- not a list" in md
    assert "- 1\\. not ordered" in md
    assert "- \\# not a heading" in md
    assert "- \\> not a quote" in md
    assert "- line break" in md
    assert "**Remediation:** \\=== setext?" in md
    assert "``x`y``" in md


def test_md_helpers() -> None:
    assert md_escape("a_b*c") == r"a\_b\*c"
    assert md_escape("+ x") == r"\+ x"
    assert md_code("plain") == "`plain`"
    assert md_code("`x`") == "`` `x` ``"
    assert md_code("a\nb") == "`a b`"
