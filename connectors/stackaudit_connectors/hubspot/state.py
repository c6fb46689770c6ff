"""What one pull has gathered so far, and the accounting that becomes its :class:`SourceRun`.

Each capability is pulled inside :meth:`PullState.step`: an HTTP failure there is recorded against the capability
(coverage partial or missing, with the reason) and the pull goes on. Errors that end the pull (daily quota,
deadline, a token that stops working) are re-raised for the connector to stop and keep what it has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from stackaudit_inventory import (
    Asset,
    Capability,
    Coverage,
    CoverageStatus,
    FieldDef,
    Integration,
    ObjectDef,
    Quota,
    Reference,
    RunStatus,
    SourceError,
    SourceRun,
)

from ..http import AuthError, HttpError, ScopeError
from ..http.concurrency import STOP_ERRORS

__all__ = ["MAX_ERRORS", "PullState", "scope_hint"]

log = logging.getLogger("stackaudit.connectors.hubspot")

MAX_ERRORS = 50

# Which read-only scope an endpoint needs, to turn a 403 into an actionable line.
_SCOPES = (
    ("/crm-object-schemas/", "crm.schemas.custom.read"),
    ("/automation/", "automation"),
    ("/marketing/v3/forms", "forms"),
    ("/crm/v3/lists", "crm.lists.read"),
    ("/crm/v3/owners", "crm.objects.owners.read"),
    ("/account-info/", "oauth"),
    ("/crm/v3/properties/contacts", "crm.schemas.contacts.read"),
    ("/crm/v3/properties/companies", "crm.schemas.companies.read"),
    ("/crm/v3/properties/deals", "crm.schemas.deals.read"),
    ("/crm/v3/objects/contacts", "crm.objects.contacts.read"),
    ("/crm/v3/objects/companies", "crm.objects.companies.read"),
    ("/crm/v3/objects/deals", "crm.objects.deals.read"),
)


def scope_hint(path: str | None) -> str:
    for prefix, scope in _SCOPES:
        if path and path.startswith(prefix):
            return f" (grant the read scope {scope})"
    return ""


@dataclass
class PullState:
    connector: str
    tool: str
    started_at: datetime
    fields: list[FieldDef] = field(default_factory=list)
    objects: list[ObjectDef] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    quotas: list[Quota] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    coverage: dict[Capability, Coverage] = field(default_factory=dict)
    stopped: str | None = None
    _failed: dict[Capability, list[str]] = field(default_factory=dict)
    _begun: set[Capability] = field(default_factory=set)
    _dropped_errors: int = 0

    def begin(self, capability: Capability) -> None:
        """The pull reached ``capability`` (one never reached is missing, with the reason the pull stopped)."""
        self._begun.add(capability)

    def began(self, capability: Capability) -> bool:
        return capability in self._begun

    def error(self, err: SourceError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(err)
        else:
            self._dropped_errors += 1

    def failed(self, capability: Capability, what: str, err: SourceError | None = None) -> None:
        """``capability`` is missing ``what`` (an object, an endpoint); ``err`` says why."""
        self._failed.setdefault(capability, []).append(what)
        if err is not None:
            self.error(err)

    def http_failure(self, capability: Capability, what: str, exc: HttpError) -> None:
        hint = scope_hint(exc.path) if isinstance(exc, ScopeError) else ""
        message = f"{exc}{hint}"
        self.failed(capability, what, SourceError(code=exc.code, message=message, capability=capability, where=what))

    @contextmanager
    def step(self, capability: Capability, what: str) -> Iterator[None]:
        """Run one part of the pull; record its failure against ``capability`` and go on."""
        try:
            yield
        except STOP_ERRORS:
            self.failed(capability, what)
            raise
        except AuthError:
            raise
        except HttpError as exc:
            self.http_failure(capability, what, exc)
        except Exception as exc:  # the connector's one capture point: a bug in one capability keeps the others
            log.debug("hubspot: %s failed", what, exc_info=True)
            self.failed(
                capability,
                what,
                SourceError(
                    code="internal",
                    message=f"connector '{self.connector}': {what}: unexpected {exc.__class__.__name__}",
                    capability=capability,
                    where=what,
                ),
            )

    def cover(self, capability: Capability, *, reason: str | None = None, detail: str | None = None) -> None:
        """Set coverage from what failed: complete, or partial naming the parts that were not read."""
        failed = self._failed.get(capability, [])
        if not failed:
            self.coverage[capability] = Coverage(status=CoverageStatus.complete, reason=reason, detail=detail)
            return
        what = ", ".join(dict.fromkeys(failed))
        why = f"not read: {what}" + (f" ({self.stopped})" if self.stopped else "")
        self.coverage[capability] = Coverage(
            status=CoverageStatus.partial, reason=reason or why, detail=detail or why
        )

    def set_coverage(
        self, capability: Capability, status: CoverageStatus, reason: str, detail: str | None = None
    ) -> None:
        self.coverage[capability] = Coverage(status=status, reason=reason, detail=detail)

    def is_failed(self, capability: Capability) -> bool:
        return bool(self._failed.get(capability))

    def run(self, *, ended_at: datetime, api_calls: int, connector_type: str) -> SourceRun:
        if self._dropped_errors:
            more = f"connector '{self.connector}': {self._dropped_errors} more errors"
            self.errors.append(SourceError(code="truncated", message=more))
        # Coverage that is partial by nature (HubSpot has no API for connector mappings) is not a failed run;
        # errors and an early stop are.
        partial = bool(self.errors) or self.stopped is not None
        nothing = not self.fields and not self.assets
        status = RunStatus.failed if nothing and partial else RunStatus.partial if partial else RunStatus.complete
        return SourceRun(
            id=self.connector,
            connector_type=connector_type,
            tool=self.tool,
            started_at=self.started_at,
            ended_at=ended_at,
            api_calls=api_calls,
            status=status,
            errors=self.errors,
            quota=self.quotas,
            coverage=self.coverage,
            notes=self.notes,
        )
