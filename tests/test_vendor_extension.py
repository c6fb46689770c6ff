"""The manifest's ``vendors:`` section extends the vendor catalogue, and every consumer sees the extension.

Issue 6 ("Around the rules"): users extend the bundled catalogue in the manifest. Through the real pipeline: a
declared Salesforce namespace makes the fields in it owned by the declared tool, a declared Segment destination
resolves to the declared tool, a manifest override of a bundled product's capabilities changes RT001's groups (while
what ``tools:`` declares still wins), the audit hands the extended catalogue to the rules, and a bad entry is a
one-line error naming its line.
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from stackaudit import commands
from stackaudit.audit import engine
from stackaudit.commands import audit_snapshot
from stackaudit.config import LoadedConfig, load_config
from stackaudit.fakes.salesforce import FakeSalesforce, load_org
from stackaudit.fakes.segment import FakeSegment, load_workspace
from stackaudit.pipeline import manifest_catalogue, run_pull
from stackaudit_connectors.files import FileError, load_yaml
from stackaudit_connectors.manifest.connector import load_manifest
from stackaudit_connectors.manifest.parse import parse_vendors
from stackaudit_inventory import Origin, Snapshot

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
TOKEN = "test-token-value-123456"


def _config(tmp_path: Path, manifest: str, connectors: str = "[]", audit: str = "{}") -> LoadedConfig:
    (tmp_path / "stack.yaml").write_text(textwrap.dedent(manifest), encoding="utf-8")
    (tmp_path / "stackaudit.yaml").write_text(
        f"stack: Test\nmanifest: stack.yaml\nconnectors: {connectors}\naudit: {audit}\n", encoding="utf-8"
    )
    return load_config(tmp_path / "stackaudit.yaml")


def _pull(config: LoadedConfig, env: dict[str, str] | None = None) -> Snapshot:
    outcome = run_pull(config, env=env or {}, now=lambda: NOW)
    assert not outcome.failed, [r.errors for r in outcome.failed]
    return outcome.snapshot


# ------------------------------------------------------------------------------------------------ salesforce

ACME_VENDOR = """\
vendors:
  - id: acme-scoring
    name: Acme Scoring
    capabilities: [predictive-scoring]
    salesforce_namespaces: [acmesc]
"""


def _salesforce_snapshot(tmp_path: Path, vendors: str) -> Snapshot:
    org = {
        "objects": {
            "Lead": {
                "label": "Lead",
                "records": 10,
                "fields": [
                    {"name": "Email", "type": "email", "label": "Email", "fill": 1.0},
                    {"name": "acmesc__Score__c", "type": "double", "label": "Acme Score", "fill": 0.5},
                ],
            }
        }
    }
    with FakeSalesforce(load_org(org), token=TOKEN) as fake:
        connectors = (
            f"[{{type: salesforce, instance_url: '{fake.base_url}', access_token: '${{SF_TOKEN}}', fill_rates: 'off'}}]"
        )
        config = _config(tmp_path, "tools:\n  - {id: salesforce, name: Salesforce}\n" + vendors, connectors)
        return _pull(config, {"SF_TOKEN": fake.token})


def test_a_declared_salesforce_namespace_owns_its_fields(tmp_path: Path) -> None:
    snapshot = _salesforce_snapshot(tmp_path, ACME_VENDOR)
    fields = {f.id: f for f in snapshot.fields}
    assert fields["salesforce:Lead.acmesc__Score__c"].owning_tool == "acme-scoring"
    assert fields["salesforce:Lead.Email"].owning_tool is None


def test_without_the_declaration_the_namespace_is_unknown(tmp_path: Path) -> None:
    snapshot = _salesforce_snapshot(tmp_path, "")
    fields = {f.id: f for f in snapshot.fields}
    assert fields["salesforce:Lead.acmesc__Score__c"].owning_tool is None


# --------------------------------------------------------------------------------------------------- segment


def _segment_snapshot(tmp_path: Path, vendors: str) -> Snapshot:
    workspace = {
        "sources": [{"id": "src1", "slug": "web", "name": "Web", "kind": "Javascript", "enabled": True}],
        "destinations": [
            {
                "id": "dst1",
                "name": "Beacon - product",
                "product": "Acme Beacon (Actions)",
                "sourceId": "src1",
                "enabled": True,
                "categories": ["Analytics"],
            }
        ],
    }
    with FakeSegment(load_workspace(workspace), token=TOKEN) as fake:
        connectors = (
            f"[{{type: segment, base_url: '{fake.base_url}', token: '${{SEGMENT_TOKEN}}', delivery_health: false}}]"
        )
        manifest = "tools:\n  - {id: beacon, name: Beacon Analytics, owner: Product}\n" + vendors
        return _pull(_config(tmp_path, manifest, connectors), {"SEGMENT_TOKEN": TOKEN})


def test_a_segment_destination_resolves_to_the_declared_tool(tmp_path: Path) -> None:
    vendors = """\
vendors:
  - id: beacon
    name: Beacon Analytics
    capabilities: [product-analytics]
    segment_destinations: [Acme Beacon]
"""
    snapshot = _segment_snapshot(tmp_path, vendors)
    tools = snapshot.tools_by_id
    assert "segment->beacon" in snapshot.integrations_by_id
    assert tools["beacon"].origin is Origin.both
    assert tools["beacon"].owner == "Product"
    assert tools["beacon"].capabilities == ["product-analytics"]  # filled from the declared entry
    assert "acme-beacon" not in tools


def test_without_the_declaration_the_destination_is_a_shadow_tool(tmp_path: Path) -> None:
    snapshot = _segment_snapshot(tmp_path, "")
    assert "segment->beacon" not in snapshot.integrations_by_id
    assert snapshot.tools_by_id["beacon"].origin is Origin.declared


# ------------------------------------------------------------------------------------------------ RT001 / audit

CHAT_TOOLS = """\
tools:
  - {id: drift, name: Drift}
  - {id: intercom, name: Intercom}
"""


def _rt001(tmp_path: Path, manifest: str) -> list[tuple[str, ...]]:
    config = _config(tmp_path, manifest, audit="{select: [RT001]}")
    result = audit_snapshot(config, _pull(config), now=NOW)
    return [tuple(f.subjects) for f in result.findings if f.rule == "RT001"]


def test_bundled_capabilities_group_drift_and_intercom(tmp_path: Path) -> None:
    assert _rt001(tmp_path, CHAT_TOOLS) == [("drift", "intercom")]


def test_a_capability_override_changes_rt001_grouping(tmp_path: Path) -> None:
    override = "vendors:\n  - id: drift\n    capabilities: [sales-engagement, chat]\n"
    assert _rt001(tmp_path, CHAT_TOOLS + override) == []


def test_what_tools_declare_still_wins_over_the_override(tmp_path: Path) -> None:
    declared = "tools:\n  - {id: drift, name: Drift, capabilities: [chat]}\n  - {id: intercom, name: Intercom}\n"
    override = "vendors:\n  - id: drift\n    capabilities: [sales-engagement]\n"
    assert _rt001(tmp_path, declared + override) == [("drift", "intercom")]


def test_the_audit_gets_the_extended_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = _config(tmp_path, CHAT_TOOLS + ACME_VENDOR)
    snapshot = _pull(config)
    seen: dict[str, Any] = {}
    real = engine.run_audit

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "run_audit", spy)
    commands.audit_snapshot(config, snapshot, now=NOW)
    entry = seen["catalogue"].by_salesforce_namespace("acmesc")
    assert entry is not None and entry.id == "acme-scoring" and entry.source == "manifest"


def test_the_audit_of_a_config_without_manifest_file_uses_the_bundled_catalogue(tmp_path: Path) -> None:
    config = _config(tmp_path, CHAT_TOOLS)
    (tmp_path / "stack.yaml").unlink()
    assert manifest_catalogue(config, missing_ok=True).by_id("drift") is not None


# ---------------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("vendors", "expected"),
    [
        (
            "vendors:\n  - id: acme\n    name: Acme\n    capabilities: [lead-scorin]\n",
            "stack.yaml:4: vendors[0].capabilities[0]: unknown capability 'lead-scorin' (did you mean",
        ),
        (
            "vendors:\n  - id: Acme\n    name: Acme\n",
            "stack.yaml:2: vendors[0].id: vendor id must be a lowercase tool slug",
        ),
        ("vendors:\n  - id: acme\n    name: Acme\n    colour: red\n", "stack.yaml:4: vendors[0].colour: unknown key"),
        ("vendors:\n  - id: acme\n", "stack.yaml:2: vendors[0].name: required key is missing"),
        (
            "vendors:\n  - id: acme\n    name: Acme\n  - id: acme\n    name: Acme 2\n",
            "stack.yaml:4: vendors[1].id: duplicate vendor 'acme' (also at line 2)",
        ),
        (
            "vendors:\n  - id: acme\n    name: Acme\n    salesforce_namespaces: [pi]\n"
            "  - id: beta\n    name: Beta\n    salesforce_namespaces: [pi]\n",
            "stack.yaml:5: vendors[1]: Salesforce namespace 'pi' is claimed by both 'acme' and 'beta'",
        ),
    ],
)
def test_a_bad_entry_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vendors: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the file is named as the user would type it
    config = _config(tmp_path, vendors)
    with pytest.raises(FileError) as exc:
        run_pull(config, env={}, now=lambda: NOW)
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(expected), message
    data, lines = load_yaml("stack.yaml", vendors)
    with pytest.raises(FileError) as again:
        parse_vendors(data, lines, "stack.yaml")
    assert str(again.value) == message


def test_an_override_may_leave_out_the_bundled_name(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text("vendors:\n  - id: drift\n    suite: true\n", encoding="utf-8")
    load_manifest(path)  # the whole manifest still loads
    data, lines = load_yaml("stack.yaml", path.read_text(encoding="utf-8"))
    (entry,) = parse_vendors(data, lines, "stack.yaml")
    assert entry.name == "Drift" and entry.suite
