"""stackaudit.yaml loading: a valid config, each error class as one `file:line: key: message`, init templates."""

from __future__ import annotations

import sys
import textwrap
import types
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml
from pydantic import Field, SecretStr

from stackaudit import config as config_module
from stackaudit.config import LoadedConfig, load_config, render_init_templates
from stackaudit_connectors.base import Connector, ConnectorConfig, PullResult, resolve_secret
from stackaudit_connectors.files import FileError
from stackaudit_connectors.manifest.config import ManifestConfig
from stackaudit_connectors.manifest.connector import load_manifest
from stackaudit_inventory import Severity


class FakeCrmConfig(ConnectorConfig):
    token: SecretStr | None = Field(default=None, description="API token, as ${VAR}.")
    base_url: str = Field(default="https://api.fakecrm.example", description="API base URL.")
    page_size: int = Field(default=100, ge=1, le=500, description="Records per page.")


class FakeCrmConnector(Connector):
    type: ClassVar[str] = "fakecrm"
    config_model: ClassVar[type[ConnectorConfig]] = FakeCrmConfig

    def pull(self) -> PullResult:  # pragma: no cover - config tests never pull
        raise NotImplementedError


@pytest.fixture
def fake_types(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register a `fakecrm` connector type beside the real ones, for this test only."""
    real: Callable[[str], type[Connector]] = config_module.load_connector_class

    def load(type_name: str) -> type[Connector]:
        return FakeCrmConnector if type_name == "fakecrm" else real(type_name)

    monkeypatch.setattr(config_module, "load_connector_class", load)


def write(tmp_path: Path, text: str, name: str = "stackaudit.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(FileError) as info:
        load_config(path)
    text = str(info.value)
    assert "\n" not in text
    return text


# ---------------------------------------------------------------------------------------------- valid


def test_valid_config(tmp_path: Path, fake_types: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FAKECRM_TOKEN_EU", raising=False)
    seen: list[dict[str, Any]] = []
    monkeypatch.setitem(sys.modules, "stackaudit.audit.settings", _fake_settings_module(seen))
    path = write(
        tmp_path,
        """
        stack: Acme Corp
        store: artifacts/.stackaudit
        manifest: stack.yaml
        connectors:
          - type: fakecrm
            id: fakecrm-us
            token: ${FAKECRM_TOKEN_US}
          - type: fakecrm
            id: fakecrm-eu
            token: ${FAKECRM_TOKEN_EU}
            base_url: https://eu.fakecrm.example
            page_size: 50
          - type: manifest
            id: agency
            path: ../agency/stack.yaml
        audit:
          waivers: waivers.yaml
          baseline: /srv/baseline.json
          select: [OF, RT001]
          ignore: [OF002]
          severity: {RT001: high}
          rules:
            OF001: {min_age_days: 90}
        """,
    )
    cfg = load_config(path)
    assert isinstance(cfg, LoadedConfig)
    assert cfg.path == path and cfg.dir == tmp_path.resolve()
    assert cfg.model.stack == "Acme Corp"
    # relative paths resolve against the config's folder, absolute ones are kept
    assert cfg.store_path == tmp_path.resolve() / "artifacts/.stackaudit"
    assert cfg.manifest_path == tmp_path.resolve() / "stack.yaml"
    assert cfg.waivers_path == tmp_path.resolve() / "waivers.yaml"
    assert cfg.baseline_path == Path("/srv/baseline.json")
    # each entry is validated by its own type's model
    us, eu, agency = cfg.connectors
    assert isinstance(us, FakeCrmConfig) and isinstance(eu, FakeCrmConfig)
    assert [c.connector_id for c in cfg.connectors] == ["fakecrm-us", "fakecrm-eu", "agency"]
    assert eu.page_size == 50 and eu.base_url == "https://eu.fakecrm.example"
    assert isinstance(agency, ManifestConfig) and agency.path == Path("../agency/stack.yaml")
    # secrets stay as written until pull time, so audit works without the variable
    assert eu.token is not None and eu.token.get_secret_value() == "${FAKECRM_TOKEN_EU}"
    assert "FAKECRM" not in repr(eu)
    assert resolve_secret(eu.token, connector="fakecrm-eu", key="token", env={"FAKECRM_TOKEN_EU": "s3cret"}) == "s3cret"
    audit = cfg.model.audit
    assert audit.select == ["OF", "RT001"] and audit.ignore == ["OF002"]
    assert audit.severity == {"RT001": Severity.high}
    assert cfg.rule_settings == {"OF001": {"min_age_days": 90}}
    assert seen == [{"OF001": {"min_age_days": 90}}]
    assert cfg.line_of("audit", "rules", "OF001", "min_age_days") == 23


def test_minimal_config_defaults(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, "stack: Acme\n"))
    assert cfg.store_path == tmp_path.resolve() / ".stackaudit"
    assert cfg.manifest_path is None and cfg.waivers_path is None and cfg.baseline_path is None
    assert cfg.connectors == []
    assert cfg.model.audit.select is None  # not set: every rule runs
    assert cfg.model.audit.ignore == [] and cfg.model.audit.rules == {}


def test_bundled_demo_config_loads() -> None:
    data = resources.files("stackaudit.demo") / "data"
    path = Path(str(data / "stackaudit.yaml"))
    cfg = load_config(path)
    assert cfg.model.stack == "Northwind Analytics"
    assert cfg.manifest_path == path.resolve().parent / "stack.yaml"
    assert cfg.waivers_path == path.resolve().parent / "waivers.yaml"
    assert [c.type for c in cfg.connectors] == ["hubspot", "salesforce", "marketo", "segment"]


# --------------------------------------------------------------------------------------------- errors


def test_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert error_of(Path("stackaudit.yaml")) == (
        "stackaudit.yaml: file not found (run `stackaudit init` to create one)"
    )


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "# nothing yet\n")
    assert error_of(path) == f"{path}: file is empty (run `stackaudit init` for a commented template)"


def test_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- stack: Acme\n")
    assert error_of(path) == f"{path}:1: expected a mapping at the top level (stack:, connectors:, audit:)"


def test_bad_yaml(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        stack: Acme
        connectors:
          - type: manifest
           path: stack.yaml
        """,
    )
    assert error_of(path).startswith(f"{path}:4: invalid YAML: ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stack: Acme\nstak: Acme\n", "2: stak: unknown key"),
        ("stack: Acme\naudit:\n  waivers: w.yaml\n  waiver: x\n", "4: audit.waiver: unknown key"),
        ("store: .stackaudit\n", "1: stack: required key is missing"),
        (
            "stack: Acme\nconnectors:\n  - type: manifest\n    path: s.yaml\n    pth: s.yaml\n",
            "5: connectors[0].pth: unknown key",
        ),
    ],
)
def test_unknown_and_missing_keys(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{expected}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stack: [Acme]\n", "1: stack: Input should be a valid string"),
        ("stack: Acme\nconnectors: {type: manifest}\n", "2: connectors: Input should be a valid list"),
        ("stack: Acme\nconnectors:\n  - manifest\n", "3: connectors[0]: Input should be a valid dictionary"),
        ("stack: Acme\naudit:\n  select: OF\n", "3: audit.select: Input should be a valid list"),
        (
            "stack: Acme\naudit:\n  severity:\n    RT001: urgent\n",
            "4: audit.severity.RT001: Input should be 'info', 'low', 'medium', 'high' or 'critical'",
        ),
        ("stack: Acme\naudit:\n  rules:\n    OF001: 90\n", "4: audit.rules.OF001: Input should be a valid dictionary"),
        ("stack: Acme\nconnectors:\n  - type: 7\n", "3: connectors[0].type: Input should be a valid string"),
    ],
)
def test_wrong_types(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}:{expected}"


def test_wrong_type_inside_a_connector_entry(tmp_path: Path, fake_types: None) -> None:
    path = write(
        tmp_path,
        """
        stack: Acme
        connectors:
          - type: fakecrm
            token: ${T}
            page_size: lots
        """,
    )
    assert error_of(path) == (
        f"{path}:5: connectors[0].page_size: Input should be a valid integer, unable to parse string as an integer"
    )


def test_unknown_connector_type(tmp_path: Path) -> None:
    path = write(tmp_path, "stack: Acme\nconnectors:\n  - type: hubspto\n    token: ${HUBSPOT_TOKEN}\n")
    message = error_of(path)
    assert message.startswith(f"{path}:3: connectors[0].type: unknown connector type 'hubspto' (known: ")
    assert "manifest" in message


def test_missing_connector_type(tmp_path: Path) -> None:
    path = write(tmp_path, "stack: Acme\nconnectors:\n  - id: crm\n")
    assert error_of(path) == f"{path}:3: connectors[0].type: required key is missing"


def test_duplicate_connector_ids(tmp_path: Path, fake_types: None) -> None:
    path = write(
        tmp_path,
        """
        stack: Acme
        connectors:
          - type: fakecrm
            token: ${A}
          - type: fakecrm
            token: ${B}
        """,
    )
    assert error_of(path) == (
        f"{path}:5: connectors[1].type: duplicate connector id 'fakecrm' (also connectors[0]); "
        "give each account its own `id`"
    )
    path = write(
        tmp_path,
        """
        stack: Acme
        manifest: stack.yaml
        connectors:
          - type: fakecrm
            id: crm
          - type: manifest
            id: manifest
            path: other.yaml
        """,
    )
    assert error_of(path) == (
        f"{path}:7: connectors[1].id: duplicate connector id 'manifest' (also the top-level `manifest`); "
        "give each account its own `id`"
    )


def test_connector_id_must_be_a_tool_slug(tmp_path: Path, fake_types: None) -> None:
    path = write(tmp_path, "stack: Acme\nconnectors:\n  - type: fakecrm\n    id: FakeCRM EU\n")
    assert error_of(path) == (
        f"{path}:4: connectors[0].id: connector id 'FakeCRM EU' must be a lowercase slug (it is a tool id)"
    )


# --------------------------------------------------------------------------------- rule parameters


class _FakeRuleSettingsError(Exception):
    def __init__(self, rule_id: str, key: str | None, message: str) -> None:
        self.rule_id, self.key, self.message = rule_id, key, message
        super().__init__(message)


def _fake_settings_module(seen: list[dict[str, Any]]) -> types.ModuleType:
    module = types.ModuleType("stackaudit.audit.settings")

    def validate_rule_settings(settings: dict[str, dict[str, Any]]) -> None:
        seen.append(settings)
        for rule_id, params in settings.items():
            if rule_id == "ZZ999":
                raise _FakeRuleSettingsError(rule_id, None, "unknown rule")
            for key, value in params.items():
                if key == "min_age_days" and not isinstance(value, int):
                    raise _FakeRuleSettingsError(rule_id, key, "Input should be a valid integer")

    module.validate_rule_settings = validate_rule_settings  # type: ignore[attr-defined]
    module.RuleSettingsError = _FakeRuleSettingsError  # type: ignore[attr-defined]
    return module


RULES_CONFIG = """\
stack: Acme
audit:
  rules:
    OF001:
      enabled: true
      min_age_days: {value}
"""


def test_rule_parameters_are_checked_by_the_audit_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    monkeypatch.setitem(sys.modules, "stackaudit.audit.settings", _fake_settings_module(seen))
    good = write(tmp_path, RULES_CONFIG.format(value=90))
    assert load_config(good).rule_settings == {"OF001": {"enabled": True, "min_age_days": 90}}
    assert seen == [{"OF001": {"enabled": True, "min_age_days": 90}}]
    bad = write(tmp_path, RULES_CONFIG.format(value="soon"))
    assert error_of(bad) == f"{bad}:6: audit.rules.OF001.min_age_days: Input should be a valid integer"
    unknown = write(tmp_path, "stack: Acme\naudit:\n  rules:\n    ZZ999: {}\n")
    assert error_of(unknown) == f"{unknown}:4: audit.rules.ZZ999: unknown rule"


def test_rule_parameters_are_not_checked_without_the_audit_engine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "stackaudit.audit.settings", None)  # import now fails: module absent
    cfg = load_config(write(tmp_path, RULES_CONFIG.format(value="soon")))
    assert cfg.rule_settings == {"OF001": {"enabled": True, "min_age_days": "soon"}}


# ------------------------------------------------------------------------------------------ templates


def test_init_templates_load_as_written(tmp_path: Path) -> None:
    templates = render_init_templates()
    assert set(templates) == {"stackaudit.yaml", "stack.yaml", "waivers.yaml"}
    for name, text in templates.items():
        assert text.startswith("# "), f"{name} should open with a comment saying what it is"
        write(tmp_path, text, name)
    cfg = load_config(tmp_path / "stackaudit.yaml")
    assert cfg.manifest_path == tmp_path.resolve() / "stack.yaml"
    assert cfg.waivers_path == tmp_path.resolve() / "waivers.yaml"
    assert cfg.connectors == []

    assert cfg.manifest_path is not None
    part = load_manifest(cfg.manifest_path)
    assert [t.id for t in part.tools] == ["hubspot", "salesforce"]
    assert [i.id for i in part.integrations] == ["hubspot->salesforce"]
    assert part.lifecycle is not None and part.lifecycle.mql_definition

    waivers = yaml.safe_load(templates["waivers.yaml"])
    assert waivers == {"waivers": []}
    # the commented example has exactly the keys a waiver needs
    example = "\n".join(line.removeprefix("#") for line in templates["waivers.yaml"].splitlines()[3:])
    (entry,) = yaml.safe_load(example)
    assert set(entry) == {"rule", "subject", "reason", "owner", "expires"}


def test_init_templates_pass_the_audit_engines_waiver_loader(tmp_path: Path) -> None:
    waivers = pytest.importorskip("stackaudit.audit.waivers")
    path = write(tmp_path, render_init_templates()["waivers.yaml"], "waivers.yaml")
    assert waivers.load_waivers(path) == []
    demo = Path(str(resources.files("stackaudit.demo") / "data" / "waivers.yaml"))
    assert [(w.rule, w.subject) for w in waivers.load_waivers(demo)] == [
        ("RT001", "mixpanel"),
        ("RT001", "drift"),
        ("RT002", "typeform"),
    ]
