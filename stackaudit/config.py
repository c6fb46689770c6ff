"""``stackaudit.yaml``: which stack, where its artifacts live, which connectors to run, how to audit.

Loading validates everything that can be checked without a network: the shape of the file, each connector
entry against its own connector type's config model, unique connector ids, and (when the audit engine is
installed) the per-rule parameters. Every problem is one :class:`FileError` line naming file, line and key::

    stackaudit.yaml:9: connectors[1].id: duplicate connector id 'hubspot' (also connectors[0]); ...

Secrets stay as written (``${HUBSPOT_TOKEN}``): they are resolved only when a connector runs, so ``audit`` and
``report`` work on a saved snapshot without the environment variables. Relative paths resolve against the
config file's folder, never the working directory, so the same config works from anywhere.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from stackaudit_connectors.base import ENTRY_POINT_GROUP, ConnectorConfig, ConnectorConfigError, load_connector_class
from stackaudit_connectors.files import FileError, LineMap, format_path, load_yaml, validate_data
from stackaudit_inventory import Severity, ids

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "AuditConfig",
    "LoadedConfig",
    "StackConfig",
    "load_config",
    "render_init_templates",
]

DEFAULT_CONFIG_NAME = "stackaudit.yaml"
_RULE_SETTINGS_MODULE = "stackaudit.audit.settings"

PathKey = tuple[str | int, ...]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AuditConfig(_Model):
    """How ``audit`` runs: which rules, at which severity, with which parameters, waivers and baseline."""

    waivers: Path | None = Field(
        default=None, description="Waivers file (rule + subject pattern + reason + owner + expiry)."
    )
    baseline: Path | None = Field(
        default=None, description="Baseline of accepted finding fingerprints; matching findings are marked."
    )
    select: list[str] | None = Field(
        default=None, description="Rule ids or id prefixes to run (`OF`, `RT001`); when not set, every rule runs."
    )
    ignore: list[str] = Field(default_factory=list, description="Rule ids or id prefixes never to run.")
    severity: dict[str, Severity] = Field(
        default_factory=dict, description="Rule id -> severity overriding the rule's default."
    )
    rules: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="Rule id -> parameters (thresholds), plus `enabled: false` to switch a rule off.",
    )


class StackConfig(_Model):
    """The top level of ``stackaudit.yaml``."""

    stack: str = Field(min_length=1, description="The stack's name, shown on reports (usually the company).")
    store: Path = Field(
        default=Path(".stackaudit"), description="Folder holding snapshots and audit results, relative to this file."
    )
    manifest: Path | None = Field(
        default=None, description="The manifest (`stack.yaml`) declaring tools, contracts, flows and lifecycle."
    )
    connectors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="One entry per connected account: `type`, optional `id` (the tool id, default the type), "
        "then the keys of that connector type.",
    )
    audit: AuditConfig = Field(default_factory=AuditConfig, description="Audit settings.")


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config with its paths resolved against the config file's folder."""

    path: Path
    dir: Path
    model: StackConfig
    connectors: list[ConnectorConfig]
    lines: LineMap
    store_path: Path
    manifest_path: Path | None
    waivers_path: Path | None
    baseline_path: Path | None

    @property
    def rule_settings(self) -> dict[str, dict[str, Any]]:
        return self.model.audit.rules

    def line_of(self, *key: str | int) -> int | None:
        """The line a key was written on, e.g. ``line_of("audit", "waivers")``, for errors found later."""
        return self.lines.get(tuple(key))


def _absolute(base: Path, value: Path) -> Path:
    value = value.expanduser()
    return value if value.is_absolute() else base / value


def _resolve(base: Path, value: Path | None) -> Path | None:
    return None if value is None else _absolute(base, value)


def _line(lines: LineMap, path: PathKey) -> int | None:
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _error(file: str, lines: LineMap, path: PathKey, message: str) -> FileError:
    return FileError(file, message, _line(lines, path), format_path(path))


def _connector_type_error(type_name: str, exc: ConnectorConfigError) -> str:
    known = sorted(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))
    if type_name not in known:
        return f"unknown connector type '{type_name}' (known: {', '.join(known) or 'none'})"
    return str(exc).removeprefix(f"connector '{type_name}': ")


def _validate_connectors(model: StackConfig, file: str, lines: LineMap) -> list[ConnectorConfig]:
    out: list[ConnectorConfig] = []
    seen: dict[str, int] = {}
    if model.manifest is not None:
        seen["manifest"] = -1
    for i, entry in enumerate(model.connectors):
        base: PathKey = ("connectors", i)
        type_name = entry.get("type")
        if type_name is None:
            raise _error(file, lines, (*base, "type"), "required key is missing")
        if not isinstance(type_name, str):
            raise _error(file, lines, (*base, "type"), "Input should be a valid string")
        try:
            cls = load_connector_class(type_name)
        except ConnectorConfigError as exc:
            raise _error(file, lines, (*base, "type"), _connector_type_error(type_name, exc)) from None
        cfg = validate_data(cls.config_model, entry, file, lines, base=base)
        cid = cfg.connector_id
        id_key: PathKey = (*base, "id") if "id" in entry else (*base, "type")
        if not ids.is_tool_slug(cid):
            raise _error(file, lines, id_key, f"connector id '{cid}' must be a lowercase slug (it is a tool id)")
        if cid in seen:
            other = "the top-level `manifest`" if seen[cid] < 0 else f"connectors[{seen[cid]}]"
            raise _error(
                file,
                lines,
                id_key,
                f"duplicate connector id '{cid}' (also {other}); give each account its own `id`",
            )
        seen[cid] = i
        out.append(cfg)
    return out


def _validate_rule_settings(model: StackConfig, file: str, lines: LineMap) -> None:
    """Hand rule selection and parameters to the audit engine's validators, when the engine is installed: every
    ``select``/``ignore`` entry and ``severity`` key must name a rule or a prefix of one, every ``rules`` entry a
    rule and its parameters."""
    audit = model.audit
    if not (audit.rules or audit.select is not None or audit.ignore or audit.severity):
        return  # nothing to check; and loading the rule catalogue is not free
    try:
        module = importlib.import_module(_RULE_SETTINGS_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name in ("stackaudit.audit", _RULE_SETTINGS_MODULE):
            return  # the audit engine is not there: parameters are checked when it is
        raise
    # An engine that offers no selector check (an older version) still validates selectors when the audit runs.
    unknown_selector: Callable[[str], str | None] | None = getattr(module, "unknown_selector", None)
    selectors: list[tuple[PathKey, str]] = [(("audit", "select", i), s) for i, s in enumerate(audit.select or [])]
    selectors += [(("audit", "ignore", i), s) for i, s in enumerate(audit.ignore)]
    selectors += [(("audit", "severity", s), s) for s in audit.severity]
    if unknown_selector is not None:
        for where, selector in selectors:
            problem = unknown_selector(selector)
            if problem is not None:
                raise _error(file, lines, where, problem)
    if not audit.rules:
        return
    error_type: type[Exception] = module.RuleSettingsError
    try:
        module.validate_rule_settings(model.audit.rules)
    except error_type as exc:
        rule_id: str = getattr(exc, "rule_id", "")
        key: str | None = getattr(exc, "key", None)
        message: str = getattr(exc, "message", str(exc))
        path: PathKey = ("audit", "rules", rule_id) + ((key,) if key else ())
        raise _error(file, lines, path, message) from None


def load_config(path: Path) -> LoadedConfig:
    """Read and validate ``stackaudit.yaml``. Raises :class:`FileError` naming file, line and key."""
    path = Path(path)
    file = str(path)
    if not path.exists():
        raise FileError(file, "file not found (run `stackaudit init` to create one)")
    if path.is_dir():
        raise FileError(file, "is a folder, not a config file")
    data, lines = load_yaml(path)
    if data is None:
        raise FileError(file, "file is empty (run `stackaudit init` for a commented template)")
    if not isinstance(data, dict):
        raise FileError(file, "expected a mapping at the top level (stack:, connectors:, audit:)", 1)
    model = validate_data(StackConfig, data, file, lines)
    connectors = _validate_connectors(model, file, lines)
    _validate_rule_settings(model, file, lines)
    config_dir = path.resolve().parent
    return LoadedConfig(
        path=path,
        dir=config_dir,
        model=model,
        connectors=connectors,
        lines=lines,
        store_path=_absolute(config_dir, model.store),
        manifest_path=_resolve(config_dir, model.manifest),
        waivers_path=_resolve(config_dir, model.audit.waivers),
        baseline_path=_resolve(config_dir, model.audit.baseline),
    )


# ------------------------------------------------------------------------------------------- templates

_CONFIG_TEMPLATE = """\
# stackaudit.yaml: which stack to audit, where its artifacts live, which systems to read, how to audit.
# Relative paths resolve against this file's folder. Reference: README.md, "Configuring a real stack".

# The stack's name, shown on every report (usually the company).
stack: Acme Corp

# Where snapshots and audit results are kept. Add it to .gitignore.
store: .stackaudit

# The manifest: what no API tells (owners, costs, contracts, intended flows, lifecycle definitions).
manifest: stack.yaml

# One entry per connected account; the same type may appear twice (two portals) with distinct ids.
# Secrets are written as ${ENV_VAR} and read from the environment only when `stackaudit pull` runs,
# so `stackaudit audit` and `report` work without them. `stackaudit pull --help` lists the types.
connectors: []
#  - type: hubspot
#    id: hubspot                        # the tool id in the inventory (default: the type)
#    token: ${HUBSPOT_TOKEN}            # a private app token with read-only scopes
#    base_url: https://api.hubapi.com   # every HTTP connector accepts a base URL override

audit:
  waivers: waivers.yaml
  # baseline: baseline.json    # accepted findings (fingerprints); later audits flag only what is new
  # select: [OF, RT001]        # run only these rules (ids or id prefixes); default: every rule
  # ignore: []                 # never run these
  # severity: {RT001: high}    # override a rule's default severity
  # rules:                     # per-rule parameters; `stackaudit rules ID` lists a rule's parameters
  #   OF001: {min_age_days: 90}
  #   RT001: {enabled: false}
"""

_MANIFEST_TEMPLATE = """\
# stack.yaml: the stack as the team knows it. Declare what no vendor API tells: who owns each tool, what it
# costs, when its contract renews, how data is meant to flow, and what each lifecycle stage means.
# Tool ids are lowercase slugs and are used everywhere (findings, waivers, diagrams).
# Field ids are <tool>:<object>.<field> in the vendor's API names (hubspot:contacts.lifecyclestage).
# Capabilities come from a fixed vocabulary (crm, marketing-automation, email-marketing, cdp, web-analytics,
# product-analytics, enrichment, chat, sales-engagement, scheduling, forms, ads, data-warehouse, ipaas, ...);
# a misspelt one is an error that names the closest.
version: 1

tools:
  - id: hubspot
    name: HubSpot Marketing Hub
    vendor: HubSpot
    capabilities: [marketing-automation, email-marketing, forms]   # the first is the primary job
    owner: Marketing Operations
    status: active                  # active | trial | retiring | removed
    cost: {amount: 36000, currency: USD, period: annual}
    seats: {bought: 10, used: 8}
    contract:
      start: 2026-01-01
      renewal: 2027-01-01
      notice_days: 60               # or notice_date: 2026-11-02 (derived from notice_days when not given)
      auto_renew: true
  - id: salesforce
    name: Salesforce Sales Cloud
    vendor: Salesforce
    capabilities: [crm]
    owner: Revenue Operations

integrations:
  - source: hubspot
    target: salesforce
    # via: zapier                   # the middleware, when there is one
    # name: leads                   # needed when two flows join the same pair
    direction: two-way              # one-way | two-way
    expected_interval: 15m          # 15m, 1h, 1d, or minutes
    mappings:
      - {source: hubspot:contacts.email, target: salesforce:Lead.Email, direction: both}
      - {source: hubspot:contacts.lifecyclestage, target: salesforce:Lead.Status, transform: value map}
    # mappings_csv: mappings.csv    # columns source,target,direction,transform[,precedence]
    # observed:                     # what the middleware's run history shows, read by hand
    #   status: active              # active | disabled | error | unknown
    #   last_success_at: 2026-11-30T08:45:00Z
    #   success_count: 2800
    #   error_count: 12
    #   window_days: 7

lifecycle:
  stages:
    - {id: lead, name: Lead}
    - {id: mql, name: Marketing Qualified Lead}
    - {id: sql, name: Sales Qualified Lead}
  mappings:
    - tool: hubspot
      field: hubspot:contacts.lifecyclestage
      values: {lead: [lead], mql: [marketingqualifiedlead], sql: [salesqualifiedlead]}
  mql_definition: Write down what makes a lead marketing qualified (fit and behaviour).
  # handoff_definition: What must be true before marketing passes a lead to sales, and what sales does next.

# Extensions of the bundled vendor catalogue, for products it lacks or gets wrong for you. Connectors resolve what
# they discover through it (Salesforce package namespaces, Segment destinations, field prefixes) and the audit
# compares its capabilities. An entry with a bundled id overrides only the keys it sets; what `tools:` declares
# about a tool still wins over both.
vendors: []
#  - id: acme-scoring                # a tool id; declare it under tools: too if you pay for it
#    name: Acme Scoring
#    vendor: Acme Inc.
#    capabilities: [predictive-scoring]
#    aliases: [Acme Lead Scoring]
#    salesforce_namespaces: [acmesc]  # managed-package prefix: fields acmesc__*__c belong to this tool
#    segment_destinations: [Acme Scoring (Actions)]
#    field_prefixes: [acme_]          # fields its integration creates in your CRM or MA tool
#  - id: drift                        # a bundled product: change only what differs for you
#    capabilities: [chat, sales-engagement]
"""

_WAIVERS_TEMPLATE = """\
# waivers.yaml: findings the team has accepted for now, each with a reason, an owner and an expiry date.
# A waived finding stays in the report, marked waived; an expired waiver is reported itself.
waivers: []
#  - rule: RT001                    # the rule id (`stackaudit rules` lists them)
#    subject: "mixpanel"            # fnmatch pattern over the finding's subjects (tool, field, integration ids)
#    reason: Consolidating product analytics into Amplitude by Q2
#    owner: jane@acme.example
#    expires: 2027-03-31
"""


def render_init_templates() -> dict[str, str]:
    """The commented starting files ``stackaudit init`` writes: file name -> text. Each loads as-is."""
    return {
        DEFAULT_CONFIG_NAME: _CONFIG_TEMPLATE,
        "stack.yaml": _MANIFEST_TEMPLATE,
        "waivers.yaml": _WAIVERS_TEMPLATE,
    }
