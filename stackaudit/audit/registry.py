"""The rule registry: built-in rules plus plugins from the ``stackaudit.rules`` entry-point group.

Loading is lazy: no rule module is imported until the registry is first asked for rules. Every class is
validated at registration (:func:`~stackaudit.audit.rule.validate_rule_class`) and rule ids are unique: a
built-in with a bad definition or a duplicate id is a programming error and raises; a third-party plugin that
fails to import or clashes is left out and the reason is remembered in :attr:`RuleRegistry.disabled`, so one
broken plugin never takes the CLI down.

An entry point names a :class:`Rule` subclass, an iterable of them, or a callable returning one (the project's
own ``builtin`` entry point names :func:`stackaudit.rules.builtin_rules`; the classes it yields are the ones
already registered, which is not a clash).

The catalogue helpers (:func:`rule_catalogue`, :func:`describe_rule`, :func:`explain_rule`) feed
``stackaudit rules`` and the README's rule table from the same source: the rule classes and their docstrings.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined
from rapidfuzz import fuzz, process

from stackaudit_inventory.errors import InputError

from .rule import Rule, RuleDefinitionError, validate_rule_class

__all__ = [
    "ENTRY_POINT_GROUP",
    "ParamDoc",
    "RuleDoc",
    "RuleRegistry",
    "UnknownRuleError",
    "default_registry",
    "describe_rule",
    "explain_rule",
    "rule_catalogue",
]

ENTRY_POINT_GROUP = "stackaudit.rules"
RuleClass = type[Rule[Any]]


class UnknownRuleError(InputError):
    """A rule id the user typed (``stackaudit rules ID``, a waiver, a setting) names no registered rule."""

    def __init__(self, rule_id: str, known: Iterable[str]):
        self.rule_id = rule_id
        hint = suggest(rule_id, known)
        super().__init__(f"unknown rule '{rule_id}'" + (f" (did you mean {hint}?)" if hint else ""))


def suggest(word: str, choices: Iterable[str]) -> str | None:
    """The closest known id, for "did you mean" hints."""
    match = process.extractOne(word.upper(), list(choices), scorer=fuzz.ratio, score_cutoff=70)
    return str(match[0]) if match else None


class RuleRegistry:
    """Rule id -> rule class, loaded on first use."""

    def __init__(
        self,
        builtins: Callable[[], Iterable[object]] | None = None,
        entry_points_loader: Callable[[], Iterable[EntryPoint]] | None = None,
    ) -> None:
        self._builtins = builtins if builtins is not None else _builtin_rules
        self._entry_points = (
            entry_points_loader if entry_points_loader is not None else lambda: entry_points(group=ENTRY_POINT_GROUP)
        )
        self._rules: dict[str, RuleClass] = {}
        self._origin: dict[str, str] = {}
        self._loaded = False
        self.disabled: dict[str, str] = {}
        """Plugin entry point name -> why it is not loaded."""

    def register(self, cls: object, origin: str = "code") -> RuleClass:
        """Validate and add one rule class. Raises :class:`RuleDefinitionError` for bad metadata or a duplicate id."""
        rule = validate_rule_class(cls)
        existing = self._rules.get(rule.id)
        if existing is rule:
            return rule
        if existing is not None:
            raise RuleDefinitionError(
                f"duplicate rule id {rule.id}: {rule.__module__}.{rule.__qualname__} ({origin}) clashes with "
                f"{existing.__module__}.{existing.__qualname__} ({self._origin[rule.id]})"
            )
        self._rules[rule.id] = rule
        self._origin[rule.id] = origin
        return rule

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for cls in self._builtins():
            self.register(cls, "built-in")
        for ep in sorted(self._entry_points(), key=lambda e: e.name):
            try:
                for cls in _classes_from(ep.load()):
                    self.register(cls, f"entry point '{ep.name}'")
            # A plugin can fail in any way while importing; isolate it like a crashing rule and say why.
            except Exception as exc:  # noqa: BLE001
                self.disabled[ep.name] = f"{ep.value}: {exc.__class__.__name__}: {exc}"

    def rules(self) -> dict[str, RuleClass]:
        """Every registered rule, sorted by id."""
        self._load()
        return dict(sorted(self._rules.items()))

    def ids(self) -> list[str]:
        return list(self.rules())

    def get(self, rule_id: str) -> RuleClass:
        """The rule class for ``rule_id``; raises :class:`UnknownRuleError` with a suggestion."""
        rules = self.rules()
        if rule_id not in rules:
            raise UnknownRuleError(rule_id, rules)
        return rules[rule_id]


def _classes_from(obj: object) -> list[object]:
    if isinstance(obj, type):
        return [obj]
    if callable(obj):
        obj = obj()
    if isinstance(obj, Iterable) and not isinstance(obj, str | bytes):
        return list(obj)
    raise RuleDefinitionError(f"entry point must name a Rule subclass or an iterable of them, got {obj!r}")


def _builtin_rules() -> list[object]:
    rules = importlib.import_module("stackaudit.rules")
    return list(rules.builtin_rules())


@lru_cache(maxsize=1)
def default_registry() -> RuleRegistry:
    """The process-wide registry (built-ins and installed plugins), created on first use."""
    return RuleRegistry()


# ------------------------------------------------------------------------------------------------- docs


@dataclass(frozen=True)
class ParamDoc:
    name: str
    type: str
    default: Any
    description: str


@dataclass(frozen=True)
class RuleDoc:
    """Everything ``stackaudit rules ID`` prints about a rule."""

    id: str
    name: str
    title: str
    category: str
    severity: str
    summary: str
    doc: str
    remediation: str
    requires: tuple[str, ...]
    params: tuple[ParamDoc, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title,
            "category": self.category,
            "severity": self.severity,
            "summary": self.summary,
            "requires": list(self.requires),
            "params": [
                {"name": p.name, "type": p.type, "default": p.default, "description": p.description}
                for p in self.params
            ],
            "remediation": self.remediation,
            "doc": self.doc,
        }


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def _params_doc(model: type[BaseModel]) -> tuple[ParamDoc, ...]:
    out = []
    for name, info in model.model_fields.items():
        default = info.default if info.default is not PydanticUndefined else None
        if info.default_factory is not None:
            default = info.default_factory()  # type: ignore[call-arg]
        out.append(ParamDoc(name, _type_name(info.annotation), default, info.description or ""))
    return tuple(out)


def rule_doc(cls: RuleClass) -> RuleDoc:
    return RuleDoc(
        id=cls.id,
        name=cls.name,
        title=cls.title,
        category=cls.category.value,
        severity=cls.severity.value,
        summary=cls.summary(),
        doc=cls.doc(),
        remediation=cls.remediation,
        requires=tuple(sorted(c.value for c in cls.requires)),
        params=_params_doc(cls.params),
    )


def describe_rule(rule_id: str, registry: RuleRegistry | None = None) -> RuleDoc:
    return rule_doc((registry or default_registry()).get(rule_id.strip().upper()))


def rule_catalogue(registry: RuleRegistry | None = None) -> list[dict[str, Any]]:
    """One JSON-ready row per rule, sorted by id: id, name, title, category, severity, summary, requires, params,
    remediation and the full doc."""
    reg = registry or default_registry()
    return [rule_doc(cls).as_dict() for cls in reg.rules().values()]


def explain_rule(rule_id: str, registry: RuleRegistry | None = None) -> str:
    """Plain-text explanation of one rule: metadata, its documentation, parameters and the fix."""
    d = describe_rule(rule_id, registry)
    lines = [
        f"{d.id} {d.name}: {d.title}",
        f"category: {d.category}    default severity: {d.severity}",
    ]
    if d.requires:
        lines.append(f"needs from sources: {', '.join(d.requires)}")
    lines += ["", d.doc, ""]
    lines.append(f"settings (under audit.rules.{d.id} in stackaudit.yaml):")
    for p in d.params:
        lines.append(f"  {p.name} ({p.type}, default {p.default!r}): {p.description}")
    lines.append("  enabled (bool): turn the rule on or off whatever select/ignore say")
    lines.append(f"  severity (info|low|medium|high|critical, default {d.severity}): override the severity")
    lines += ["", f"fix: {d.remediation}"]
    return "\n".join(lines)
