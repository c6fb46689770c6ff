"""Exploration commands: ``impact`` (what breaks if a field goes) and ``export`` (the inventory as CSV or JSON).

Registered on the main app by :func:`register` (kept apart from cli.py so areas evolve independently). Both read
a stored snapshot and call no vendor.
"""

# No ``from __future__ import annotations``: typer reads the command signatures at registration, and they
# name ``cli``'s option types, imported inside register() to avoid an import cycle.
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from stackaudit_inventory import Snapshot
    from stackaudit_inventory.results import FieldImpact, ImpactLink

__all__ = ["impact_json", "print_impact", "register"]

IMPACT_FORMATS = ("table", "json")
EXPORT_FORMATS = ("csv", "json")


def _describe(snapshot: "Snapshot", link: "ImpactLink") -> tuple[str, str, str]:
    """(tool name, what it is, its name) for one impact link."""
    from stackaudit_inventory.ids import tool_of

    tool = tool_of(link.node)
    tool_name = snapshot.tools_by_id[tool].name if tool in snapshot.tools_by_id else tool
    if link.kind == "asset":
        asset = snapshot.assets_by_id.get(link.node)
        return tool_name, asset.kind if asset else "asset", asset.name if asset else ""
    fld = snapshot.fields_by_id.get(link.node)
    what = "field" + (" (not inventoried)" if link.missing else "")
    return tool_name, what, (fld.label or "") if fld else ""


def impact_json(snapshot: "Snapshot", impact: "FieldImpact") -> str:
    """The impact with each link's tool and name, as JSON."""

    def links(items: "list[ImpactLink]") -> list[dict[str, Any]]:
        out = []
        for link in items:
            tool, what, name = _describe(snapshot, link)
            out.append({**link.model_dump(), "tool": tool, "what": what, "name": name})
        return out

    fld = snapshot.fields_by_id.get(impact.field)
    document = {
        "field": impact.field,
        "label": fld.label if fld else None,
        "inventoried": fld is not None,
        "writers": links(impact.writers),
        "readers": links(impact.readers),
        "downstream": links(impact.downstream),
        "downstream_tools": sorted({_describe(snapshot, link)[0] for link in impact.downstream}),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _table(title: str, snapshot: "Snapshot", items: "list[ImpactLink]", console: Console) -> None:
    tools = {_describe(snapshot, link)[0] for link in items}
    across = f" across {len(tools)} tools" if len(tools) > 1 else ""
    if not items:
        console.print(f"{title}: none seen", markup=False)
        return
    table = Table(title=f"{title} ({len(items)}{across})", title_justify="left")
    for col in ("tool", "what", "id", "name", "via"):
        table.add_column(col, overflow="fold")
    for link in sorted(items, key=lambda item: (_describe(snapshot, item)[0].casefold(), item.node)):
        tool, what, name = _describe(snapshot, link)
        table.add_row(tool, what, link.node, name, link.via or "")
    console.print(table)


def print_impact(snapshot: "Snapshot", impact: "FieldImpact", console: Console) -> None:
    """Readers, writers and downstream as tables, with a warning where references were never read."""
    from stackaudit_inventory import Capability, CoverageStatus
    from stackaudit_inventory.ids import tool_of

    fld = snapshot.fields_by_id.get(impact.field)
    head = impact.field + (f" ({fld.label})" if fld and fld.label else "")
    if fld is None:
        head += ": not inventoried (named by a mapping or reference only)"
    console.print(head, markup=False, style="bold")
    _table("Written by", snapshot, impact.writers, console)
    _table("Read by", snapshot, impact.readers, console)
    _table("Feeds downstream", snapshot, impact.downstream, console)
    tool = tool_of(impact.field)
    if snapshot.coverage_for(tool, Capability.references) not in (CoverageStatus.complete, CoverageStatus.partial):
        console.print(
            f"note: no source read {tool}'s references (workflows, forms, reports): readers and writers inside it "
            "may be missing.",
            markup=False,
        )


def register(app: typer.Typer) -> None:
    """Add ``impact`` and ``export`` to ``app``."""
    from . import cli

    @app.command()
    def impact(
        field_id: Annotated[str, typer.Argument(help="Field id, e.g. hubspot:contacts.lifecyclestage.")],
        config: cli.ConfigOpt = cli.DEFAULT_CONFIG,
        snapshot: cli.SnapshotOpt = "latest",
        fmt: Annotated[str, typer.Option("--format", "-f", help="table|json")] = "table",
        debug: cli.DebugOpt = False,
    ) -> None:
        """What breaks if a field goes: what writes it, what reads it, and what its data feeds downstream."""

        def body() -> int:
            from stackaudit_inventory.store import SnapshotStore

            from .config import load_config
            from .impact import field_impact

            if fmt not in IMPACT_FORMATS:
                raise typer.BadParameter("--format must be table or json")
            snap = SnapshotStore(load_config(config).store_path).load(snapshot)
            result = field_impact(snap, field_id)
            if fmt == "json":
                cli._write(impact_json(snap, result), None)
            else:
                print_impact(snap, result, cli.out)
            return cli.EXIT_OK

        cli._run(body, debug)

    @app.command()
    def export(
        table: Annotated[str, typer.Argument(help="tools|fields|integrations")],
        config: cli.ConfigOpt = cli.DEFAULT_CONFIG,
        snapshot: cli.SnapshotOpt = "latest",
        fmt: Annotated[str, typer.Option("--format", "-f", help="csv|json")] = "csv",
        output: cli.OutputOpt = None,
        debug: cli.DebugOpt = False,
    ) -> None:
        """Export the inventory (tools, fields or integrations) as CSV for spreadsheets or JSON for other tools.
        Text cells that a spreadsheet would read as a formula are neutralised."""

        def body() -> int:
            from stackaudit_inventory.store import SnapshotStore
            from stackaudit_reports.inventory_exports import TABLES, inventory_csv, inventory_json

            from .commands import audit_snapshot
            from .config import load_config

            if table not in TABLES:
                raise typer.BadParameter(f"table must be one of {', '.join(TABLES)}")
            if fmt not in EXPORT_FORMATS:
                raise typer.BadParameter("--format must be csv or json")
            loaded = load_config(config)
            snap = SnapshotStore(loaded.store_path).load(snapshot)
            # Open findings and flow health: the same verdicts the report shows (the audit is offline).
            result = audit_snapshot(loaded, snap)
            render = inventory_csv if fmt == "csv" else inventory_json
            cli._write(render(table, snap, result), Path(output) if output else None)
            return cli.EXIT_OK

        cli._run(body, debug)
