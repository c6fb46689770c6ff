"""Rule selection in stackaudit.yaml is validated at load: unknown ids or prefixes name the file, line and key."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stackaudit.cli import app
from stackaudit.config import load_config
from stackaudit_connectors.files import FileError

HEAD = "stack: Acme\naudit:\n"


def write(tmp_path: Path, audit_block: str) -> Path:
    path = tmp_path / "stackaudit.yaml"
    path.write_text(HEAD + audit_block, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("  select: [OF, RT001, XX]\n", "stackaudit.yaml:3: audit.select[2]: unknown rule or prefix 'XX'"),
        (
            "  select:\n    - BS\n    - RT01\n",
            "stackaudit.yaml:5: audit.select[1]: unknown rule or prefix 'RT01' (did you mean RT001?)",
        ),
        ("  ignore: [BS001, ZZ]\n", "stackaudit.yaml:3: audit.ignore[1]: unknown rule or prefix 'ZZ'"),
        ("  ignore: ['']\n", "stackaudit.yaml:3: audit.ignore[0]: unknown rule or prefix ''"),
        (
            "  severity:\n    HY: info\n    QQ9: high\n",
            "stackaudit.yaml:5: audit.severity.QQ9: unknown rule or prefix 'QQ9'",
        ),
        ("  rules:\n    OF001: {min_age: 3}\n", "stackaudit.yaml:4: audit.rules.OF001.min_age: unknown parameter"),
    ],
)
def test_unknown_selectors_fail_at_load_with_line_and_key(tmp_path: Path, block: str, expected: str) -> None:
    path = write(tmp_path, block)
    old = Path.cwd()
    os.chdir(tmp_path)  # the message names the file as given, like every FileError
    try:
        with pytest.raises(FileError) as info:
            load_config(Path("stackaudit.yaml"))
    finally:
        os.chdir(old)
    assert str(info.value).startswith(expected), str(info.value)
    assert path.exists()


def test_known_ids_prefixes_and_all_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  select: [ALL, of, RT001, BS00]\n  ignore: [bs001]\n  severity: {HY: info, UT002: high}\n"
        "  rules:\n    OF001: {min_age_days: 30}\n",
    )
    audit = load_config(path).model.audit
    assert audit.select == ["ALL", "of", "RT001", "BS00"] and audit.ignore == ["bs001"]


def test_the_cli_reports_the_bad_selector_in_one_line(tmp_path: Path) -> None:
    path = write(tmp_path, "  select: [OF, RT001, XX]\n")
    result = CliRunner().invoke(app, ["audit", "--config", str(path)], catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert re.search(r"stackaudit\.yaml:3: audit\.select\[2\]: unknown rule or prefix 'XX'$", lines[0]), lines[0]
