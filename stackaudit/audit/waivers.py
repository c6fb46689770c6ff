"""Waivers: a finding the team accepts, with a reason, an owner and an expiry date.

::

    waivers:
      - rule: RT001
        subject: "hubspot"            # fnmatch pattern over subject ids: "salesforce:Lead.Legacy_*"
        reason: Marketo is being migrated into HubSpot; both run until Q3.
        owner: jane@acme.com
        expires: 2025-09-30

Every key is required: a waiver without an owner or an end date becomes permanent silence. A finding matches
when the rule is the same and the pattern matches any of its subjects. A waived finding stays in the output
with status ``waived`` and the waiver that matched. A waiver is valid through its ``expires`` date; after it,
the waiver no longer waives and is reported itself (SA001), and a valid waiver that matched nothing is reported
too (SA002), so the file never fills with dead entries.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Sequence
from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from stackaudit_connectors.files import load_yaml_model
from stackaudit_inventory.results import Category, Finding, FindingStatus, Inconclusive, Severity, WaiverRef

from .rule import RULE_ID_RE, NoParams, Rule, RuleContext

__all__ = [
    "ExpiredWaiverRule",
    "UnusedWaiverRule",
    "Waiver",
    "WaiversFile",
    "apply_waivers",
    "load_waivers",
    "waiver_subject",
]


class Waiver(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: str = Field(description="Rule id, e.g. `OF001`.")
    subject: str = Field(min_length=1, description="fnmatch pattern over subject ids, e.g. `hubspot:contacts.old_*`.")
    reason: str = Field(min_length=1, description="Why the finding is accepted.")
    owner: str = Field(min_length=1, description="Who accepted it and will revisit it.")
    expires: date = Field(description="Last day the waiver applies (YYYY-MM-DD).")

    @field_validator("rule")
    @classmethod
    def _rule_id(cls, value: str) -> str:
        value = value.strip().upper()
        if not RULE_ID_RE.match(value):
            raise ValueError("expected a rule id such as 'OF001'")
        return value

    @field_validator("reason", "owner", "subject")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()

    def expired(self, today: date) -> bool:
        return today > self.expires

    def matches(self, finding: Finding) -> bool:
        return finding.rule == self.rule and any(fnmatch.fnmatchcase(s, self.subject) for s in finding.subjects)

    def ref(self) -> WaiverRef:
        return WaiverRef(
            rule=self.rule, subject=self.subject, reason=self.reason, owner=self.owner, expires=self.expires
        )


class WaiversFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    waivers: list[Waiver] = Field(default_factory=list)


def load_waivers(path: str | Path) -> list[Waiver]:
    """Read a waivers file; problems raise ``FileError`` naming file, line and key. An empty file is no waivers."""
    return load_yaml_model(path, WaiversFile, empty_ok=True).waivers


def waiver_subject(waiver: Waiver) -> str:
    """The stable subject id of a waiver in SA001/SA002 findings: ``waiver:<rule>/<pattern>``."""
    return f"waiver:{waiver.rule}/{waiver.subject}"


def apply_waivers(findings: list[Finding], waivers: Sequence[Waiver], now: datetime) -> tuple[list[Finding], set[int]]:
    """Mark findings matched by an unexpired waiver as waived (the first matching waiver in file order wins).
    Returns the findings and the indexes of the waivers that matched something."""
    today = now.date()
    live = [(i, w) for i, w in enumerate(waivers) if not w.expired(today)]
    used: set[int] = set()
    out = []
    for f in findings:
        match = next(((i, w) for i, w in live if w.matches(f)), None)
        if match is None:
            out.append(f)
            continue
        used.add(match[0])
        out.append(f.model_copy(update={"status": FindingStatus.waived, "waiver": match[1].ref()}))
    return out, used


class ExpiredWaiverRule(Rule[NoParams]):
    """A waiver whose expiry date has passed.

    Why it matters: a waiver is a promise to revisit a finding by a date. Once the date passes the waiver stops
    waiving (the finding it covered is open again) and the stale entry is reported so its owner decides.

    Example: ``{rule: OF001, subject: "hubspot:contacts.webinar_*", expires: 2024-12-31}`` audited in 2025.

    Fix: fix the underlying finding, or renew the waiver with a new date and a current reason.
    """

    id = "SA001"
    name = "expired-waiver"
    title = "Waiver has expired"
    category = Category.hygiene
    severity = Severity.low
    remediation = "Fix the finding the waiver covered, or renew the waiver with a new expiry date and reason."
    engine_rule = True

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        """Computed by the engine from the waivers file (see :func:`waiver_findings`)."""
        return iter(())


class UnusedWaiverRule(Rule[NoParams]):
    """A waiver that matched no finding.

    Why it matters: the problem was fixed, the subject renamed, or the pattern never matched. A dead waiver is
    noise today and silently waives a new finding tomorrow.

    Example: ``{rule: RT001, subject: "drift"}`` after Drift was cancelled.

    Fix: delete the waiver, or correct its rule id or subject pattern.
    """

    id = "SA002"
    name = "unused-waiver"
    title = "Waiver matches no finding"
    category = Category.hygiene
    severity = Severity.info
    remediation = "Delete the waiver, or correct its rule id or subject pattern."
    engine_rule = True

    def check(self, ctx: RuleContext[NoParams]) -> Iterator[Finding | Inconclusive]:
        """Computed by the engine from the waivers file (see :func:`waiver_findings`)."""
        return iter(())


def waiver_findings(
    ctx_expired: RuleContext[NoParams] | None,
    ctx_unused: RuleContext[NoParams] | None,
    waivers: Sequence[Waiver],
    used: set[int],
    now: datetime,
    *,
    ran: set[str],
    known: set[str],
) -> list[Finding]:
    """SA001 for each expired waiver and SA002 for each valid one that matched nothing (a ``None`` context means
    that rule is disabled). A waiver for a registered rule that did not run (disabled, or crashed) cannot be
    judged unused and is left alone; a waiver naming no registered rule is unused."""
    today = now.date()
    out = []
    for i, w in enumerate(waivers):
        facts: dict[str, str | int | float | bool | list[str] | None] = {
            "rule": w.rule,
            "subject": w.subject,
            "owner": w.owner,
            "expires": w.expires.isoformat(),
        }
        if w.expired(today) and ctx_expired is not None:
            days = (today - w.expires).days
            out.append(
                ctx_expired.finding(
                    [waiver_subject(w)],
                    f"Waiver for {w.rule} on '{w.subject}' expired {w.expires.isoformat()}",
                    evidence=[
                        f"Waiver for {w.rule} on '{w.subject}' (owner {w.owner}) expired {w.expires.isoformat()}, "
                        f"{days} day{'s' if days != 1 else ''} ago; it no longer waives anything.",
                        f"Reason given: {w.reason}",
                    ],
                    facts={**facts, "days_expired": days},
                    tools=[],
                )
            )
        elif not w.expired(today) and i not in used and ctx_unused is not None:
            if w.rule in known and w.rule not in ran:
                continue
            first = (
                f"No {w.rule} finding has a subject matching '{w.subject}' (owner {w.owner})."
                if w.rule in known
                else f"No rule {w.rule} is registered, so the waiver can never match (owner {w.owner})."
            )
            out.append(
                ctx_unused.finding(
                    [waiver_subject(w)],
                    f"Waiver for {w.rule} on '{w.subject}' matches no finding",
                    evidence=[first, f"Reason given: {w.reason}"],
                    facts=facts,
                    tools=[],
                )
            )
    return out
