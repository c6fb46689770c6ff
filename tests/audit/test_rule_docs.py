"""`stackaudit rules ID` explains every rule fully: rationale, parameters with their defaults, an example, the fix."""

from __future__ import annotations

import re

import pytest

from stackaudit.audit.registry import default_registry, describe_rule, explain_rule

RULE_IDS = default_registry().ids()


def _section(text: str, heading: str) -> str:
    """The text after ``heading:`` up to the next blank line."""
    match = re.search(rf"^{heading}:\s*(.+?)(?:\n\s*\n|\Z)", text, flags=re.MULTILINE | re.DOTALL)
    return match.group(1).strip() if match else ""


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_explain_covers_rationale_parameters_example_and_fix(rule_id: str) -> None:
    text = explain_rule(rule_id)
    doc = describe_rule(rule_id)
    assert text.startswith(f"{rule_id} {doc.name}: {doc.title}")
    assert len(_section(text, "Why it matters")) > 40, "rationale ('Why it matters: ...') missing or too short"
    assert len(_section(text, "Example")) > 10, "example ('Example: ...') missing"
    assert len(_section(text, "Fix")) > 10, "fix ('Fix: ...') missing from the documentation"
    assert re.search(r"^fix: \S", text, flags=re.MULTILINE), "remediation line missing"
    assert f"settings (under audit.rules.{rule_id} in stackaudit.yaml):" in text
    for p in doc.params:
        assert p.description, f"parameter {p.name} has no description"
        assert f"  {p.name} ({p.type}, default {p.default!r}): {p.description}" in text
    assert f"default {doc.severity}): override the severity" in text


def test_explain_accepts_lower_case_ids() -> None:
    assert explain_rule("bs005") == explain_rule("BS005")
