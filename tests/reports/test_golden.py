"""Golden files: the demo stack's diagrams as DOT and Mermaid, byte for byte.

Regenerate after an intended change with ``pytest tests/reports --update-golden`` and read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackaudit.commands import diagram_text
from stackaudit_inventory import AuditResult, Snapshot

GOLDEN = Path(__file__).with_name("golden")
CASES = {
    "demo.dot": {"fmt": "dot"},
    "demo.mmd": {"fmt": "mermaid"},
    "demo-salesforce-1hop.dot": {"fmt": "dot", "focus": "salesforce", "hops": 1},
    "demo-salesforce-1hop.mmd": {"fmt": "mermaid", "focus": "salesforce", "hops": 1},
    "demo-capabilities.mmd": {"fmt": "mermaid", "detail": "capability"},
    "demo-fields-hubspot-salesforce.dot": {"fmt": "dot", "level": "field", "focus": "hubspot", "to": "salesforce"},
    "demo-fields-hubspot-salesforce.mmd": {"fmt": "mermaid", "level": "field", "focus": "hubspot", "to": "salesforce"},
    "demo-field-lead-email.dot": {"fmt": "dot", "level": "field", "field": "salesforce:Lead.Email"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_demo_diagrams_match_golden(name: str, demo_stack: tuple[Snapshot, AuditResult], update_golden: bool) -> None:
    snapshot, result = demo_stack
    text = diagram_text(snapshot, result, **CASES[name])  # type: ignore[arg-type]
    # Deterministic: the same snapshot gives the same bytes.
    assert diagram_text(snapshot, result, **CASES[name]) == text  # type: ignore[arg-type]
    path = GOLDEN / name
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        return
    assert path.exists(), f"{path} is missing: run pytest tests/reports --update-golden"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed: review, then pytest tests/reports --update-golden"
    )
