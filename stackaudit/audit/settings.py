"""Rule selection and parameters from ``stackaudit.yaml``, validated against the registered rules.

::

    audit:
      select: [OF, RT001, BS]     # ids or prefixes; default: every rule
      ignore: [BS001]             # ids or prefixes
      severity: {HY: info}        # severity overrides by id or prefix
      rules:
        OF001: {min_age_days: 180}
        UT002: {min_utilisation: 0.5, severity: high}
        LC002: {enabled: false}

Selection works like ruff's: a rule runs when a ``select`` entry matches it more specifically than any
``ignore`` entry (``ALL`` matches everything with the lowest specificity; on a tie, ignore wins), so
``select: [OF], ignore: [OF001]`` runs every OF rule but OF001, and ``ignore: [OF], select: [OF002]`` runs
only OF002 of them. A rule's own ``enabled`` setting overrides selection both ways. A rule's own ``severity``
wins over the ``severity`` map, whose most specific entry wins.

Errors are :class:`RuleSettingsError` naming the rule (or selector) and key, so the config loader can point at
the file and line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from stackaudit_inventory.errors import InputError
from stackaudit_inventory.results import Severity

from .registry import RuleClass, RuleRegistry, default_registry, suggest
from .rule import RESERVED_SETTING_KEYS

__all__ = [
    "AuditSettings",
    "ResolvedRule",
    "RuleSettings",
    "RuleSettingsError",
    "build_settings",
    "unknown_selector",
    "validate_rule_settings",
]

ALL = "ALL"


class RuleSettingsError(InputError):
    """A rule setting is wrong: an unknown rule id or selector, an unknown parameter, or a bad value.

    ``rule_id`` is the rule (or selector) and ``key`` the parameter, when the problem is one parameter."""

    def __init__(self, rule_id: str, key: str | None, message: str):
        self.rule_id = rule_id
        self.key = key
        self.message = message
        super().__init__(f"{rule_id}.{key}: {message}" if key else f"{rule_id}: {message}")


class RuleSettings(BaseModel):
    """One rule's validated settings: its parameters plus the engine's own ``enabled`` and ``severity`` keys."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    enabled: bool | None = None
    severity: Severity | None = None
    params: BaseModel


def _unknown_rule(rule_id: str, registry: RuleRegistry) -> RuleSettingsError:
    hint = suggest(rule_id, registry.ids())
    return RuleSettingsError(rule_id, None, "unknown rule" + (f" (did you mean {hint}?)" if hint else ""))


def _validate_one(rule: RuleClass, raw: Any) -> RuleSettings:
    if raw is None:
        raw = {}
    if isinstance(raw, RuleSettings):
        return raw
    if isinstance(raw, rule.params):
        return RuleSettings(params=raw)
    if not isinstance(raw, Mapping):
        raise RuleSettingsError(rule.id, None, f"expected a mapping of parameters, got {type(raw).__name__}")
    values = {str(k): v for k, v in raw.items()}
    known = set(rule.params.model_fields)
    for key in values:
        if key not in known and key not in RESERVED_SETTING_KEYS:
            names = ", ".join(sorted(known | RESERVED_SETTING_KEYS))
            raise RuleSettingsError(rule.id, key, f"unknown parameter (known: {names})")
    enabled = values.pop("enabled", None)
    if enabled is not None and not isinstance(enabled, bool):
        raise RuleSettingsError(rule.id, "enabled", "expected true or false")
    severity = values.pop("severity", None)
    if severity is not None:
        try:
            severity = Severity(str(severity).lower())
        except ValueError:
            choices = "|".join(s.value for s in Severity)
            raise RuleSettingsError(rule.id, "severity", f"expected one of {choices}, got {severity!r}") from None
    try:
        params = rule.params.model_validate(values)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        param = ".".join(str(p) for p in err["loc"]) or None
        raise RuleSettingsError(rule.id, param, err["msg"]) from None
    return RuleSettings(enabled=enabled, severity=severity, params=params)


def validate_rule_settings(
    settings: Mapping[str, Mapping[str, Any] | None] | None,
    registry: RuleRegistry | None = None,
) -> dict[str, BaseModel]:
    """Validate ``audit.rules``: rule id -> parameters (plus ``enabled`` / ``severity``).

    Returns rule id -> :class:`RuleSettings` (a pydantic model holding the rule's params instance), which
    :func:`build_settings` and ``run_audit`` accept as is. Raises :class:`RuleSettingsError` for an unknown rule
    id, an unknown parameter, or a value of the wrong type or range."""
    reg = registry or default_registry()
    rules = reg.rules()
    out: dict[str, BaseModel] = {}
    for rule_id, raw in (settings or {}).items():
        rule_id = str(rule_id)
        if rule_id not in rules:
            raise _unknown_rule(rule_id, reg)
        out[rule_id] = _validate_one(rules[rule_id], raw)
    return out


@dataclass(frozen=True)
class ResolvedRule:
    """What the engine needs for one rule: whether it runs, its params, and the user's severity override."""

    enabled: bool
    params: BaseModel
    severity: Severity | None


def _specificity(selector: str, rule_id: str) -> int | None:
    if selector == ALL:
        return 0
    return len(selector) if rule_id.startswith(selector) else None


def _best(selectors: Iterable[str], rule_id: str) -> int | None:
    scores = [s for s in (_specificity(sel, rule_id) for sel in selectors) if s is not None]
    return max(scores) if scores else None


@dataclass(frozen=True)
class AuditSettings:
    """Validated selection, severity overrides and per-rule settings. Build it with :func:`build_settings`."""

    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] = ()
    severity: Mapping[str, Severity] = field(default_factory=dict)
    rules: Mapping[str, RuleSettings] = field(default_factory=dict)

    def is_selected(self, rule_id: str) -> bool:
        chosen = 0 if self.select is None else _best(self.select, rule_id)
        if chosen is None:
            return False
        dropped = _best(self.ignore, rule_id)
        return dropped is None or chosen > dropped

    def resolve(self, rule: RuleClass) -> ResolvedRule:
        own = self.rules.get(rule.id)
        enabled = own.enabled if own is not None and own.enabled is not None else self.is_selected(rule.id)
        severity = own.severity if own is not None else None
        if severity is None:
            ranked = sorted(
                ((s, sev) for sel, sev in self.severity.items() if (s := _specificity(sel, rule.id)) is not None),
                key=lambda pair: pair[0],
            )
            severity = ranked[-1][1] if ranked else None
        params = own.params if own is not None else rule.params()
        return ResolvedRule(enabled=enabled, params=params, severity=severity)


def unknown_selector(raw: object, registry: RuleRegistry | None = None) -> str | None:
    """What is wrong with one ``select``/``ignore``/``severity`` entry, or None when it is ``ALL``, a rule id or a
    prefix of one (case-insensitive). The config loader uses it to point at the file and line."""
    ids = (registry or default_registry()).ids()
    sel = str(raw).strip().upper()
    if sel == ALL or (sel and any(rule_id.startswith(sel) for rule_id in ids)):
        return None
    hint = suggest(sel, ids) if sel else None
    return f"unknown rule or prefix {str(raw)!r}" + (f" (did you mean {hint}?)" if hint else "")


def _selectors(values: Iterable[str] | None, what: str, registry: RuleRegistry) -> tuple[str, ...]:
    out = []
    for raw in values or ():
        problem = unknown_selector(raw, registry)
        if problem is not None:
            raise RuleSettingsError(str(raw), None, f"{what}: {problem}")
        out.append(str(raw).strip().upper())
    return tuple(out)


def build_settings(
    *,
    select: Iterable[str] | None = None,
    ignore: Iterable[str] | None = None,
    severity: Mapping[str, Severity | str] | None = None,
    rules: Mapping[str, Any] | None = None,
    registry: RuleRegistry | None = None,
) -> AuditSettings:
    """Validate the ``audit`` section's rule keys into :class:`AuditSettings`.

    ``rules`` may be the output of :func:`validate_rule_settings` or the raw mapping from the YAML file.
    Raises :class:`RuleSettingsError` for a selector that matches no rule or a bad value."""
    reg = registry or default_registry()
    overrides: dict[str, Severity] = {}
    for raw_sel, raw_sev in (severity or {}).items():
        (sel,) = _selectors([raw_sel], "severity", reg)
        try:
            overrides[sel] = Severity(str(raw_sev).lower())
        except ValueError:
            choices = "|".join(s.value for s in Severity)
            raise RuleSettingsError(str(raw_sel), None, f"severity: expected one of {choices}") from None
    validated = validate_rule_settings(rules, reg) if rules else {}
    return AuditSettings(
        select=None if select is None else _selectors(select, "select", reg),
        ignore=_selectors(ignore, "ignore", reg),
        severity=overrides,
        rules={k: v for k, v in validated.items() if isinstance(v, RuleSettings)},
    )
