"""The CLI end to end: commands, exit codes, one-line errors, nothing written on bad input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from stackaudit.cli import app
from stackaudit_inventory import AuditResult

runner = CliRunner()


def run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """Invoke the CLI in-process; returns exit code, stdout, stderr."""
    import os

    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        result = runner.invoke(app, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def project(tmp_path: Path) -> Path:
    code, _, err = run("init", str(tmp_path))
    assert code == 0, err
    assert {p.name for p in tmp_path.iterdir()} >= {"stackaudit.yaml", "stack.yaml", "waivers.yaml"}
    return tmp_path


def snapshots_in(project: Path) -> list[Path]:
    return sorted((project / ".stackaudit" / "snapshots").glob("*.json*")) if (project / ".stackaudit").exists() else []


def test_init_refuses_to_overwrite(project: Path) -> None:
    code, _, err = run("init", str(project))
    assert code == 2
    assert "already exists" in err and "--force" in err
    assert len(err.strip().splitlines()) == 1


def test_pull_audit_report_diagram_on_the_init_templates(project: Path) -> None:
    cfg = str(project / "stackaudit.yaml")
    code, _, err = run("pull", "--config", cfg, "--quiet")
    assert code == 0, err
    assert len(snapshots_in(project)) == 1

    code, out, _ = run("audit", "--config", cfg, "--format", "json")
    assert code == 0
    result = AuditResult.model_validate_json(out)
    jsonschema.validate(json.loads(out), AuditResult.model_json_schema())
    assert result.schema_version == 1

    code, out, _ = run("snapshots", "--config", cfg)
    assert code == 0
    assert snapshots_in(project)[0].name.split(".")[0] in out

    report = project / "out" / "report.html"
    code, _, err = run("report", "--config", cfg, "--output", str(report))
    assert code == 0, err
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") or html.lower().startswith("<!doctype html>")

    code, dot1, _ = run("diagram", "--config", cfg, "--format", "dot")
    code2, dot2, _ = run("diagram", "--config", cfg, "--format", "dot")
    assert code == code2 == 0
    assert dot1 == dot2 and dot1.lstrip().startswith(("digraph", "strict digraph"))


BROKEN_MANIFESTS = {
    "bad yaml": ("tools:\n  - id: hubspot\n    name: [unclosed\n", r"stack\.yaml:\d+: invalid YAML"),
    "unknown key": (
        "tools:\n  - id: hubspot\n    name: HubSpot\n    colour: blue\n",
        r"stack\.yaml:4: tools\[0\]\.colour: unknown key",
    ),
    "wrong type": (
        "tools:\n  - id: hubspot\n    name: HubSpot\n    cost: {amount: lots}\n",
        r"stack\.yaml:4: tools\[0\]\.cost\.amount: .*number",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_MANIFESTS))
def test_broken_manifest_is_one_line_exit_2_and_no_snapshot(project: Path, case: str) -> None:
    text, pattern = BROKEN_MANIFESTS[case]
    (project / "stack.yaml").write_text(text, encoding="utf-8")
    code, out, err = run("pull", "--config", str(project / "stackaudit.yaml"), "--quiet")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in err + out
    assert snapshots_in(project) == []


def test_broken_config_names_file_line_and_key(project: Path) -> None:
    cfg = project / "stackaudit.yaml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\nunexpected_key: 1\n", encoding="utf-8")
    code, _, err = run("audit", "--config", str(cfg))
    assert code == 2
    assert re.match(r"error: .*stackaudit\.yaml:\d+: unexpected_key: unknown key$", err.strip()), err


def test_missing_config_points_at_init(tmp_path: Path) -> None:
    code, _, err = run("audit", "--config", str(tmp_path / "nope.yaml"))
    assert code == 2
    assert "stackaudit init" in err


def test_audit_without_snapshot_says_to_pull(project: Path) -> None:
    code, _, err = run("audit", "--config", str(project / "stackaudit.yaml"))
    assert code == 2
    assert "pull" in err


def test_rules_catalogue_and_unknown_rule(project: Path) -> None:
    code, out, _ = run("rules", "--format", "json")
    assert code == 0
    ids = {r["id"] for r in json.loads(out)}
    assert {"OF001", "RT001", "BS002"} <= ids
    code, out, _ = run("rules", "BS002")
    assert code == 0 and "BS002" in out
    code, _, err = run("rules", "ZZ999")
    assert code == 2 and "ZZ999" in err


def test_schema_commands_emit_json_schema() -> None:
    for artifact, title in (("snapshot", "Snapshot"), ("findings", "AuditResult")):
        code, out, _ = run("schema", "--artifact", artifact)
        assert code == 0
        assert json.loads(out)["title"] == title
    code, _, err = run("schema", "--artifact", "nope")
    assert code == 2 and "nope" in err


def test_readme_rule_table_is_generated_from_the_catalogue() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- rules:start -->")[1].split("<!-- rules:end -->")[0].strip()
    code, out, _ = run("rules", "--format", "md")
    assert code == 0
    assert block == out.strip(), "README rule table is stale: paste `stackaudit rules --format md` between the markers"


def test_hostile_names_are_escaped_end_to_end(project: Path) -> None:
    (project / "stack.yaml").write_text(
        "tools:\n"
        "  - id: evil\n"
        '    name: "<script>alert(1)</script>"\n'
        '    owner: "<img src=x onerror=alert(2)>"\n'
        "    capabilities: [chat]\n"
        "  - id: other\n"
        '    name: Other "chat" {tool}\n'
        "    capabilities: [chat]\n",
        encoding="utf-8",
    )
    cfg = str(project / "stackaudit.yaml")
    assert run("pull", "--config", cfg, "--quiet")[0] == 0
    report = project / "r.html"
    assert run("report", "--config", cfg, "-o", str(report))[0] == 0
    html = report.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    code, dot, _ = run("diagram", "--config", cfg, "--format", "dot")
    # In DOT a double-quoted label is plain text; an HTML-like label (label=<...>) would be markup.
    assert code == 0 and 'label="<script>alert(1)</script>"' in dot and "label=<" not in dot
    assert 'label="Other \\"chat\\" {tool}"' in dot
    code, svg, _ = run("diagram", "--config", cfg, "--format", "svg")
    assert code == 0 and "<script>" not in svg


def test_pull_passes_only_the_options_the_user_gave(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import stackaudit.pipeline as pipeline

    seen: list[dict[str, object]] = []
    real = pipeline.run_pull

    def spy(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        seen.append(dict(kwargs["options"]))  # type: ignore[call-overload]
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "run_pull", spy)
    cfg = str(project / "stackaudit.yaml")
    assert run("pull", "--config", cfg, "-q")[0] == 0
    assert run("pull", "--config", cfg, "-q", "--fill-rates", "exact", "--max-api-share", "0.25")[0] == 0
    assert seen == [{}, {"fill_rates": "exact", "max_api_share": 0.25}]
    code, _, err = run("pull", "--config", cfg, "-q", "--max-api-share", "1.5")
    assert code == 2 and "max-api-share" in err
