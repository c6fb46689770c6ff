"""What one Marketo pull has gathered, and the accounting that becomes its :class:`SourceRun`.

Each part of the pull runs inside :meth:`PullState.step`: an HTTP failure there is recorded against its
capability (coverage partial, with the endpoint and the reason) and the pull goes on. Errors that end the pull
(the daily quota 607, the deadline, credentials that stop working) are recorded and re-raised, so the connector
stops and returns what it has, saying so.
"""

from __future__ import annotations

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
    InventoryPart,
    ObjectDef,
    Quota,
    Reference,
    RunStatus,
    SourceError,
    SourceRun,
    Tool,
)

from ..http import AuthError, DeadlineError, HttpError, QuotaError

__all__ = ["MAX_ERRORS", "PullState"]

MAX_ERRORS = 50


@dataclass
class PullState:
    connector: str
    tool: str
    started_at: datetime
    tools: list[Tool] = field(default_factory=list)
    objects: list[ObjectDef] = field(default_factory=list)
    fields: list[FieldDef] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    integrations: list[Integration] = field(default_factory=list)
    quotas: list[Quota] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    coverage: dict[Capability, Coverage] = field(default_factory=dict)
    stopped: str | None = None
    _failed: dict[Capability, list[str]] = field(default_factory=dict)
    _dropped: int = 0

    def error(self, err: SourceError) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(err)
        else:
            self._dropped += 1

    def failed(self, capability: Capability, what: str, err: SourceError | None = None) -> None:
        """``capability`` lacks ``what`` (an endpoint, a form); ``err`` says why."""
        self._failed.setdefault(capability, []).append(what)
        if err is not None:
            self.error(err)

    def http_failure(self, capability: Capability, what: str, exc: HttpError) -> None:
        self.failed(capability, what, SourceError(code=exc.code, message=str(exc), capability=capability, where=what))

    def problem(self, capability: Capability, what: str, message: str) -> None:
        """A response that could not be used as a whole (``malformed``)."""
        text = f"connector '{self.connector}': {what}: {message}"
        self.failed(capability, what, SourceError(code="malformed", message=text, capability=capability, where=what))

    @contextmanager
    def step(self, capability: Capability, what: str) -> Iterator[None]:
        """Run one part of the pull; record an HTTP failure against ``capability`` and go on."""
        try:
            yield
        except (QuotaError, DeadlineError, AuthError) as exc:
            self.http_failure(capability, what, exc)
            self.stopped = self.stopped or f"stopped at {what}: {exc.code}"
            raise
        except HttpError as exc:
            self.http_failure(capability, what, exc)

    def is_failed(self, capability: Capability) -> bool:
        return bool(self._failed.get(capability))

    def cover(self, capability: Capability, *, partial_reason: str | None = None) -> None:
        """Complete, or partial naming what was not read (and ``partial_reason``, a gap by design)."""
        failed = list(dict.fromkeys(self._failed.get(capability, [])))
        reasons = [f"not read: {', '.join(failed)}"] if failed else []
        if partial_reason:
            reasons.append(partial_reason)
        if self.stopped and failed:
            reasons.append(self.stopped)
        if not reasons:
            self.coverage[capability] = Coverage(status=CoverageStatus.complete)
        else:
            text = "; ".join(reasons)
            self.coverage[capability] = Coverage(status=CoverageStatus.partial, reason=text[:500], detail=text)

    def set_coverage(self, capability: Capability, status: CoverageStatus, reason: str) -> None:
        self.coverage[capability] = Coverage(status=status, reason=reason)

    def part(self) -> InventoryPart:
        return InventoryPart(
            tools=self.tools,
            objects=self.objects,
            fields=self.fields,
            assets=self.assets,
            references=self.references,
            integrations=self.integrations,
        )

    def run(self, *, ended_at: datetime, api_calls: int, connector_type: str) -> SourceRun:
        errors = list(self.errors)
        if self._dropped:
            errors.append(
                SourceError(code="truncated", message=f"connector '{self.connector}': {self._dropped} more errors")
            )
        partial = bool(errors) or self.stopped is not None
        nothing = not self.fields and not self.assets
        status = RunStatus.failed if nothing and partial else RunStatus.partial if partial else RunStatus.complete
        notes = list(self.notes)
        if self.stopped:
            notes.insert(0, f"Partial pull: {self.stopped}; what was read before is kept.")
        return SourceRun(
            id=self.connector,
            connector_type=connector_type,
            tool=self.tool,
            started_at=self.started_at,
            ended_at=ended_at,
            api_calls=api_calls,
            status=status,
            errors=errors,
            quota=self.quotas,
            coverage=self.coverage,
            notes=notes,
        )
