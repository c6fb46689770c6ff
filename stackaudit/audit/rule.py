"""What a rule is: validated metadata on a class, its docs in the docstring, and a pure ``check`` generator.

A rule subclasses :class:`Rule`, sets its metadata as class attributes and implements ``check(ctx)``, which
yields :class:`Finding` and :class:`Inconclusive` items and nothing else: no I/O, no clock (``ctx.now`` is
injected), no global state. Metadata is checked by :func:`validate_rule_class` when the registry loads the
rule, so a typo in an id or a parameter without a description fails at load, not in a user's report.

Example::

    class OwnerlessToolRule(Rule[NoParams]):
        \"\"\"An active tool nobody owns. Why it matters... Example... Fix...\"\"\"

        id = "HY003"
        name = "tool-without-owner"
        title = "Active tool without an owner"
        category = Category.hygiene
        severity = Severity.low
        remediation = "Name an owner in the manifest."

        def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
            for tool in ctx.snapshot.tools:
                if tool.owner is None:
                    yield ctx.finding([tool.id], f"{tool.name} has no owner", evidence=[...])
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from stackaudit_inventory.catalogue import VendorCatalogue
from stackaudit_inventory.models import Capability, Snapshot
from stackaudit_inventory.results import Category, Finding, Inconclusive, Severity, fingerprint

from ..graph import StackGraph

__all__ = [
    "RESERVED_SETTING_KEYS",
    "FactValue",
    "NoParams",
    "Rule",
    "RuleContext",
    "RuleDefinitionError",
    "RuleParams",
    "validate_rule_class",
]

FactValue = str | int | float | bool | list[str] | None
RULE_ID_RE = re.compile(r"^[A-Z]{2}[0-9]{3}$")
RULE_NAME_RE = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
# Keys of a rule's settings block that the engine reads itself; no parameter may use them.
RESERVED_SETTING_KEYS = frozenset({"enabled", "severity"})


class RuleDefinitionError(TypeError):
    """A rule class has invalid metadata (a programming error in the rule, reported when it is registered)."""


class RuleParams(BaseModel):
    """Base of rule parameter models: frozen, unknown keys rejected, every field with a default and a description."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(RuleParams):
    """For rules without parameters."""


P = TypeVar("P", bound=BaseModel)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class RuleContext(Generic[P]):
    """Everything a rule may look at, plus helpers that build findings with the rule's metadata filled in."""

    rule: type[Rule[P]]
    snapshot: Snapshot
    graph: StackGraph
    params: P
    now: datetime
    # Every rule's effective params, so a rule that builds on another's verdict uses the user's thresholds.
    all_params: Mapping[str, BaseModel] = field(default_factory=dict)
    # The vendor catalogue (bundled, extended by the manifest), for what the snapshot does not say about a
    # product (is it a suite, what can it do). None when the caller supplies none: rules then use the snapshot.
    catalogue: VendorCatalogue | None = None

    def params_of(self, rule_id: str, model: type[M]) -> M:
        """Another rule's effective parameters (its defaults when it has no settings)."""
        value = self.all_params.get(rule_id)
        return value if isinstance(value, model) else model()

    def tools_of(self, subjects: Sequence[str]) -> list[str]:
        """The tools the subjects belong to: both ends (and middleware) of an integration, the tool of a field
        or asset, or the tool itself. Ids that name no tool in the snapshot or graph are skipped."""
        tools_by_id = self.snapshot.tools_by_id
        known = self.graph.tool_ids
        out: set[str] = set()
        for subject in subjects:
            integ = self.snapshot.integrations_by_id.get(subject)
            if integ is not None:
                out.update(t for t in (integ.source, integ.target, integ.via) if t)
                continue
            tool = subject.split(":", 1)[0]
            if tool in tools_by_id or tool in known:
                out.add(tool)
        return sorted(out)

    def finding(
        self,
        subjects: Sequence[str],
        title: str,
        *,
        evidence: Sequence[str],
        facts: Mapping[str, FactValue] | None = None,
        not_checked: Sequence[str] = (),
        severity: Severity | None = None,
        remediation: str | None = None,
        cost_at_stake: float | None = None,
        tools: Sequence[str] | None = None,
    ) -> Finding:
        """A finding of this rule. The fingerprint depends on the rule id and the subject ids only, so it stays
        the same when titles, figures or evidence change. ``severity`` lets a rule grade one finding; a user's
        severity override (applied by the engine) still wins."""
        subject_list = sorted(set(subjects))
        if not subject_list:
            raise ValueError(f"{self.rule.id}: a finding needs at least one subject")
        return Finding(
            fingerprint=fingerprint(self.rule.id, subject_list),
            rule=self.rule.id,
            category=self.rule.category,
            severity=severity or self.rule.severity,
            subjects=subject_list,
            title=title,
            evidence=list(evidence),
            facts=dict(facts or {}),
            not_checked=list(not_checked),
            remediation=remediation or self.rule.remediation,
            tools=sorted(set(tools)) if tools is not None else self.tools_of(subject_list),
            cost_at_stake=round(cost_at_stake, 2) if cost_at_stake is not None else None,
        )

    def inconclusive(self, subject: str, reason: str) -> Inconclusive:
        return Inconclusive(rule=self.rule.id, subject=subject, reason=reason)


class Rule(Generic[P]):
    """Base of every audit rule. Subclasses set the metadata below; the docstring is the rule's documentation
    (first line: a summary; then why it matters, an example and the fix)."""

    id: ClassVar[str]
    name: ClassVar[str]
    title: ClassVar[str]
    category: ClassVar[Category]
    severity: ClassVar[Severity]
    params: ClassVar[type[BaseModel]] = NoParams
    requires: ClassVar[frozenset[Capability]] = frozenset()
    remediation: ClassVar[str]
    # Rules computed by the engine itself (waiver hygiene) rather than by ``check``.
    engine_rule: ClassVar[bool] = False

    def check(self, ctx: RuleContext[P]) -> Iterator[Finding | Inconclusive]:
        """Yield findings and inconclusive checks. Must be pure: read ``ctx`` only."""
        raise NotImplementedError
        yield  # pragma: no cover - makes this a generator for type checkers

    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().split("\n", 1)[0].strip()


def validate_rule_class(cls: object) -> type[Rule[BaseModel]]:
    """Check a rule class's metadata; raise :class:`RuleDefinitionError` naming the rule and the problem."""
    if not (isinstance(cls, type) and issubclass(cls, Rule)):
        raise RuleDefinitionError(f"{cls!r} is not a Rule subclass")
    label = getattr(cls, "id", cls.__qualname__)

    def bad(message: str) -> RuleDefinitionError:
        return RuleDefinitionError(f"rule {label} ({cls.__module__}.{cls.__qualname__}): {message}")

    for attr in ("id", "name", "title", "category", "severity", "remediation"):
        if not hasattr(cls, attr):
            raise bad(f"missing class attribute '{attr}'")
    if not isinstance(cls.id, str) or not RULE_ID_RE.match(cls.id):
        raise bad("id must be two capital letters and three digits, e.g. 'OF001'")
    if not isinstance(cls.name, str) or not RULE_NAME_RE.match(cls.name):
        raise bad("name must be kebab-case describing the bad state, e.g. 'empty-unreferenced-field'")
    for attr in ("title", "remediation"):
        value = getattr(cls, attr)
        if not isinstance(value, str) or not value.strip():
            raise bad(f"'{attr}' must be a non-empty string")
    if not isinstance(cls.category, Category):
        raise bad("category must be a results.Category")
    if not isinstance(cls.severity, Severity):
        raise bad("severity must be a results.Severity")
    if not isinstance(cls.requires, frozenset) or not all(isinstance(c, Capability) for c in cls.requires):
        raise bad("requires must be a frozenset of Capability")
    if not (isinstance(cls.params, type) and issubclass(cls.params, BaseModel)):
        raise bad("params must be a pydantic model class")
    for key, info in cls.params.model_fields.items():
        if key in RESERVED_SETTING_KEYS:
            raise bad(f"parameter '{key}' clashes with a per-rule setting of the same name")
        if info.is_required():
            raise bad(f"parameter '{key}' needs a default")
        if not info.description:
            raise bad(f"parameter '{key}' needs a description (it becomes the docs)")
    try:
        cls.params()
    except ValidationError as exc:
        raise bad(f"parameter defaults do not validate: {exc.errors(include_url=False)[0]['msg']}") from None
    if not cls.doc():
        raise bad("the docstring is the rule's documentation and must not be empty")
    if not cls.engine_rule and cls.check is Rule.check:
        raise bad("check() is not implemented")
    return cls
