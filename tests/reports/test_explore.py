"""Field impact and lineage from the graph, inventory exports, and the impact, export and diagram commands."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stackaudit.cli import app
from stackaudit.cli_explore import impact_json
from stackaudit.graph import build_graph
from stackaudit.impact import build_field_impact, field_impact, field_lineage, focus_graph
from stackaudit_inventory import AuditResult, InputError, Snapshot, Tool
from stackaudit_reports.inventory_exports import inventory_csv, inventory_json, inventory_rows


def test_impact_agrees_with_the_stack_graph(demo_stack: tuple[Snapshot, AuditResult]) -> None:
    snapshot, _ = demo_stack
    graph = build_graph(snapshot)
    export = build_field_impact(snapshot, graph)
    assert export.fields
    for item in export.fields:
        assert [(w.node, w.via) for w in item.writers] == [
            (x.node, x.integration) for x in graph.writers_of(item.field)
        ]
        assert [(r.node, r.via) for r in item.readers] == [
            (x.node, x.integration) for x in graph.readers_of(item.field)
        ]
        assert sorted(d.node for d in item.downstream) == graph.downstream(item.field)
        assert item.downstream_total == len(graph.downstream(item.field))
    email = field_impact(snapshot, "salesforce:Lead.Email", graph)
    assert {w.node for w in email.writers} >= {"hubspot:contacts.email", "drift:contacts.email"}
    assert all(w.missing == (w.node not in snapshot.fields_by_id) for w in email.writers if w.kind == "field")


def test_unknown_field_suggests_close_ids(demo_stack: tuple[Snapshot, AuditResult]) -> None:
    with pytest.raises(InputError, match=r"did you mean salesforce:Lead\.Email"):
        field_impact(demo_stack[0], "salesforce:Lead.Emial")


def test_focus_graph_keeps_the_tool_and_its_neighbours(demo_stack: tuple[Snapshot, AuditResult]) -> None:
    snapshot, result = demo_stack
    graph = build_graph(snapshot)
    focused = focus_graph(result.graph, graph, "gong", 1)
    assert {n.id for n in focused.nodes} == {"gong", *graph.neighbours("gong", 1)} >= {"gong", "salesforce"}
    assert "gong->salesforce" in [e.id for e in focused.edges]
    assert all(e.source in {n.id for n in focused.nodes} for e in focused.edges)
    wider = focus_graph(result.graph, graph, "gong", 2)
    assert len(wider.nodes) > len(focused.nodes)
    assert {n.id for n in focus_graph(result.graph, graph, "gong", 0).nodes} == {"gong"}
    with pytest.raises(InputError, match="unknown tool"):
        focus_graph(result.graph, graph, "gongg", 1)


def test_field_lineage_for_a_pair_and_for_one_field(demo_stack: tuple[Snapshot, AuditResult]) -> None:
    snapshot, result = demo_stack
    pair = field_lineage(snapshot, result.graph, focus="zoominfo", to="salesforce")
    fields = {n.id for n in pair.nodes if n.kind == "field"}
    assert "zoominfo:companies.employeeCount" in fields and "salesforce:Lead.NumberOfEmployees" in fields
    assert {n.id for n in pair.nodes if n.kind == "tool"} == {"zoominfo", "salesforce"}
    assert all(e.kind == "mapping" and e.status for e in pair.edges)
    one = field_lineage(snapshot, result.graph, field="typeform:responses.email")
    focus = [n for n in one.nodes if n.status == "focus"]
    assert [n.id for n in focus] == ["typeform:responses.email"]
    assert "hubspot:contacts.email" in {n.id for n in one.nodes}
    with pytest.raises(InputError, match="--focus TOOL with --to TOOL"):
        field_lineage(snapshot, result.graph, focus="zoominfo")


def test_inventory_exports_share_columns_and_neutralise_formulas(snapshot: Snapshot, result: AuditResult) -> None:
    evil = Tool(id="evil", name='=HYPERLINK("http://x")', capabilities=["crm"], owner="+1 owner", vendor=" @vendor")
    snap = snapshot.model_copy(update={"tools": [*snapshot.tools, evil]})
    columns, rows = inventory_rows("tools", snap, result)
    text = inventory_csv("tools", snap, result)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == columns and len(parsed) == len(rows) + 1
    row = dict(zip(parsed[0], next(r for r in parsed if r[0] == "evil"), strict=True))
    assert row["name"].startswith("'=") and row["owner"].startswith("'+") and row["vendor"].startswith("' @")
    drift = dict(zip(parsed[0], next(r for r in parsed if r[0] == "drift"), strict=True))
    assert drift["annual_cost"] == "18000.0" and drift["open_findings"] == "2" and drift["capabilities"] == "chat"
    document = json.loads(inventory_json("tools", snap, result))
    assert document["table"] == "tools" and document["columns"] == columns
    assert next(r for r in document["rows"] if r["id"] == "evil")["name"] == evil.name  # JSON keeps text as is
    integrations = json.loads(inventory_json("integrations", snapshot, result))["rows"]
    assert {r["id"]: r["health"] for r in integrations} == {"drift->hubspot": "broken", "hubspot->salesforce": "stale"}
    fields = {r["id"]: r for r in json.loads(inventory_json("fields", snapshot, result))["rows"]}
    assert fields["hubspot:contacts.legacy_score"]["inventoried"] is True
    assert (
        fields["salesforce:Lead.Status"]["inventoried"] is False and fields["salesforce:Lead.Status"]["mappings"] == 1
    )


def test_impact_json_names_tools(demo_stack: tuple[Snapshot, AuditResult]) -> None:
    snapshot, _ = demo_stack
    data = json.loads(impact_json(snapshot, field_impact(snapshot, "salesforce:Lead.Email")))
    assert data["field"] == "salesforce:Lead.Email"
    assert data["inventoried"] is ("salesforce:Lead.Email" in snapshot.fields_by_id)
    assert snapshot.tools_by_id["hubspot"].name in {w["tool"] for w in data["writers"]}


# ------------------------------------------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo copied into a folder, pulled once (manifest only, no network): a project the CLI can read."""
    from importlib import resources

    from stackaudit.commands import do_pull
    from stackaudit.demo.run import DEMO_NOW

    folder = tmp_path_factory.mktemp("demo")
    for item in (resources.files("stackaudit.demo") / "data").iterdir():
        if item.is_file():
            (folder / item.name).write_bytes(item.read_bytes())
    config = folder / "stackaudit.yaml"
    do_pull(config, only=None, options={"fill_rates": "sampled"}, console=None, now=lambda: DEMO_NOW, env={"X": "1"})
    return config


def _run(*args: str) -> tuple[int, str, str]:
    out = CliRunner().invoke(app, list(args))
    return out.exit_code, out.stdout, out.stderr


def test_cli_impact_table_json_and_unknown(demo_project: Path) -> None:
    code, out, _ = _run("impact", "salesforce:Lead.Email", "--config", str(demo_project))
    assert code == 0 and "Written by" in out and "hubspot:contacts.email" in out and "Feeds downstream" in out
    code, out, _ = _run("impact", "salesforce:Lead.Email", "--config", str(demo_project), "--format", "json")
    assert code == 0 and json.loads(out)["field"] == "salesforce:Lead.Email"
    code, _, err = _run("impact", "salesforce:Lead.Emial", "--config", str(demo_project))
    assert code == 2 and "did you mean" in err


@pytest.mark.parametrize("table", ["tools", "fields", "integrations"])
def test_cli_export(demo_project: Path, table: str, tmp_path: Path) -> None:
    code, out, _ = _run("export", table, "--config", str(demo_project))
    assert code == 0 and out.startswith("id,")
    target = tmp_path / f"{table}.json"
    code, _, _ = _run("export", table, "--config", str(demo_project), "--format", "json", "--output", str(target))
    assert code == 0 and json.loads(target.read_text(encoding="utf-8"))["table"] == table
    code, _, _ = _run("export", table, "--config", str(demo_project), "--format", "xml")
    assert code == 2


def test_cli_diagram_options(demo_project: Path) -> None:
    code, mmd, _ = _run("diagram", "--config", str(demo_project), "--format", "mermaid")
    assert code == 0 and mmd.splitlines()[3] == "flowchart LR"
    code, dot, _ = _run("diagram", "--config", str(demo_project), "--format", "dot", "--focus", "gong", "--hops", "1")
    assert code == 0 and "gong" in dot and "hubspot" not in dot.split("label=")[1]
    code, dot, _ = _run(
        "diagram", "--config", str(demo_project), "-f", "dot", "--level", "field", "--field", "salesforce:Lead.Email"
    )
    assert code == 0 and "field-level lineage" in dot
    code, _, err = _run("diagram", "--config", str(demo_project), "-f", "dot", "--to", "hubspot")
    assert code == 2 and "--level field" in err
    code, _, err = _run("diagram", "--config", str(demo_project), "-f", "dot", "--detail", "huge")
    assert code == 2
    code, _, _ = _run("diagram", "--config", str(demo_project), "-f", "gif")
    assert code == 2
