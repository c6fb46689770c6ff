"""What one Salesforce pull has gathered so far, and the accounting that becomes its :class:`SourceRun`.

Each capability is pulled inside :meth:`PullState.step`: an HTTP failure there is recorded against the capability
(coverage partial or missing, with the reason) and the pull goes on. Errors that end the pull (the daily request
limit, the deadline, a session that stops working) are re-raised for the connector to stop and keep what it has.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from stackaudit_inventory import (
    Capability,
    Coverage,
    CoverageStatus,
    Quota,
    RunStatus,
    SourceError,
    SourceRun,
)

from ..http import AuthError, DeadlineError, HttpError, QuotaError

__all__ = ["MAX_ERRORS", "PullState"]

log = logging.getLogger("stackaudit.connectors.salesforce")

MAX_ERRORS = 50
STOP_ERRORS = (QuotaError, DeadlineError, AuthError)


@dataclass
class PullState:
    connector: str
    started_at: datetime
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
        """``capability`` is missing ``what`` (an object, an endpoint); ``err`` says why."""
        self._failed.setdefault(capability, []).append(what)
        if err is not None:
            self.error(err)

    def is_failed(self, capability: Capability) -> bool:
        return bool(self._failed.get(capability))

    @contextmanager
    def step(self, capability: Capability, what: str) -> Iterator[None]:
        """Run one part of the pull; record its failure against ``capability`` and go on."""
        try:
            yield
        except STOP_ERRORS:
            self.failed(capability, what)
            raise
        except HttpError as exc:
            self.failed(capability, what, SourceError(code=exc.code, message=str(exc), capability=capability,
                                                      where=what))
        except Exception as exc:
            log.debug("salesforce: %s failed", what, exc_info=True)
            self.failed(
                capability,
                what,
                SourceError(code="internal", capability=capability, where=what,
                            message=f"connector '{self.connector}': {what}: unexpected {exc.__class__.__name__}"),
            )

    def cover(self, capability: Capability, *, reason: str | None = None, detail: str | None = None,
              partial: bool = False) -> None:
        """Coverage from what failed: complete (or ``partial`` by nature), or partial naming what was not read."""
        failed = self._failed.get(capability, [])
        if not failed:
            status = CoverageStatus.partial if partial else CoverageStatus.complete
            self.coverage[capability] = Coverage(status=status, reason=reason, detail=detail)
            return
        what = ", ".join(dict.fromkeys(failed))
        why = f"not read: {what}" + (f" ({self.stopped})" if self.stopped else "")
        self.coverage[capability] = Coverage(
            status=CoverageStatus.partial, reason=why if reason is None else f"{reason}; {why}", detail=detail
        )

    def missing(self, capability: Capability, reason: str, *, status: CoverageStatus = CoverageStatus.missing
                ) -> None:
        self.coverage[capability] = Coverage(status=status, reason=reason)

    def run(self, *, tool: str, ended_at: datetime, api_calls: int, quota: list[Quota], got_data: bool
            ) -> SourceRun:
        if self._dropped:
            self.errors.append(
                SourceError(code="truncated", message=f"connector '{self.connector}': {self._dropped} more errors")
            )
        partial = bool(self.errors) or self.stopped is not None
        status = RunStatus.failed if partial and not got_data else RunStatus.partial if partial else RunStatus.complete
        return SourceRun(
            id=self.connector,
            connector_type="salesforce",
            tool=tool,
            started_at=self.started_at,
            ended_at=ended_at,
            api_calls=api_calls,
            status=status,
            errors=self.errors,
            quota=quota,
            coverage=self.coverage,
            notes=self.notes,
        )
