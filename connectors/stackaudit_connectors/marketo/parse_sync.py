"""Pure transforms for the CRM sync and API statistics: which CRM, field mappings by name, quota, error spikes.

Marketo's native CRM sync has no API of its own. What the REST API does show:

- ``crmManaged`` on lead fields (describe2): the fields the CRM sync owns. They make the integration
  ``marketo-><crm>``; for Salesforce, whose API names Marketo keeps as the fields' SOAP names, each becomes a
  mapping by name (``marketo:leads.email`` <-> ``salesforce:Lead.Email``). Marketo's own ``sfdc*`` fields (the
  CRM record ids) prove the Salesforce sync and are not mapped.
- ``/stats/usage`` and ``/stats/errors`` (last 7 days): calls per day and errors per day and code. They are
  recorded as quota evidence and, when configured, as the sync's success and error counts, each sample saying
  that these are REST API figures. Calls answered with a 6xx/7xx response-level error do not count toward usage
  (Marketo documents it), record-level errors (1xxx) arrive inside counted calls: so successes are the usage
  total minus the 1xxx errors.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from stackaudit_inventory import FieldMapping, Integration, IntegrationStatus, Origin, Quota, ids
from stackaudit_inventory.catalogue import VendorCatalogue

from .parse import LEADS, LeadFields, results_of

__all__ = [
    "ApiStats",
    "DayErrors",
    "crm_mappings",
    "declared_id",
    "parse_stats",
    "resolve_crm",
    "sync_integration",
]

CRM_CAPABILITY = "crm"
SFDC_PREFIX = "sfdc"


def declared_id(entry_id: str, declared: Mapping[str, str], catalogue: VendorCatalogue) -> str | None:
    """The manifest's id for the catalogue product ``entry_id``: the same id, or a declared tool whose name the
    catalogue resolves to that product (``ga4: Google Analytics 4``); None if the manifest does not declare it."""
    if entry_id in declared:
        return entry_id
    for tool_id, name in sorted(declared.items()):
        entry = catalogue.by_id(tool_id) or catalogue.match_name(name)
        if entry is not None and entry.id == entry_id:
            return tool_id
    return None


def resolve_crm(
    configured: str | None, declared: Mapping[str, str], lead_fields: LeadFields, catalogue: VendorCatalogue
) -> tuple[str | None, bool, str]:
    """``(crm tool id, is Salesforce, how it was decided)``; ``(None, False, why)`` when nothing tells."""
    if configured:
        entry = catalogue.by_id(configured) or catalogue.match_name(declared.get(configured, configured))
        return configured, entry is not None and entry.id == "salesforce", "configured `crm`"
    sfdc = any(f.name.lower().startswith(SFDC_PREFIX) for f in lead_fields.fields)
    if sfdc:
        tool = declared_id("salesforce", declared, catalogue) or "salesforce"
        return tool, True, "Marketo's sfdc* fields show the Salesforce sync"
    crms = []
    for tool_id, name in sorted(declared.items()):
        entry = catalogue.by_id(tool_id) or catalogue.match_name(name)
        if entry is not None and entry.primary_capability == CRM_CAPABILITY:
            crms.append((tool_id, entry.id == "salesforce"))
    if len(crms) == 1:
        return crms[0][0], crms[0][1], "the CRM declared in the manifest"
    if not crms:
        return None, False, "no CRM is declared in the manifest and no sfdc* field shows one (set `crm`)"
    return None, False, f"several CRMs are declared ({', '.join(c[0] for c in crms)}); set `crm`"


def crm_mappings(
    lead_fields: LeadFields, *, tool: str, crm: str, objects: Sequence[str]
) -> tuple[list[FieldMapping], list[str]]:
    """Mappings of CRM-managed lead fields to the Salesforce fields of the same API name: ``(mappings, skipped)``.

    Updateable fields sync both ways with the CRM winning; read-only ones flow from the CRM into Marketo. A field
    whose SOAP name is unknown is mapped only when its name is already a Salesforce custom API name (``__c``).
    """
    rest_to_soap = {rest: soap for soap, rest in lead_fields.soap_to_rest.items()}
    out: list[FieldMapping] = []
    skipped: list[str] = []
    for name, updateable in sorted(lead_fields.crm_managed.items()):
        if name.lower().startswith(SFDC_PREFIX):
            continue  # the CRM's record ids, kept by the sync itself
        crm_name = rest_to_soap.get(name) or (name if name.endswith("__c") else None)
        if crm_name is None:
            skipped.append(name)
            continue
        mine = ids.field_id(tool, LEADS, name)
        for obj in objects:
            theirs = ids.field_id(crm, obj, crm_name)
            if updateable:
                out.append(FieldMapping(source=mine, target=theirs, direction="both", precedence=crm))
            else:
                out.append(FieldMapping(source=theirs, target=mine, direction="forward"))
    return out, skipped


@dataclass(frozen=True)
class DayErrors:
    day: date
    total: int
    by_code: dict[str, int]


@dataclass
class ApiStats:
    """The last days of API usage and errors, as reported (days sorted oldest first)."""

    usage: dict[date, int] = field(default_factory=dict)
    errors: list[DayErrors] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def days(self) -> int:
        return len(set(self.usage) | {d.day for d in self.errors})

    @property
    def error_total(self) -> int:
        return sum(d.total for d in self.errors)

    @property
    def record_errors(self) -> int:
        return sum(n for d in self.errors for code, n in d.by_code.items() if len(code) >= 4)

    @property
    def successes(self) -> int:
        return max(0, sum(self.usage.values()) - self.record_errors)

    def spikes(self, factor: float, minimum: int = 50) -> list[tuple[DayErrors, float]]:
        """Days whose errors are at least ``factor`` times the median of the other days (and ``minimum``)."""
        out: list[tuple[DayErrors, float]] = []
        for day in self.errors:
            others = [d.total for d in self.errors if d.day != day.day]
            median = statistics.median(others) if others else 0.0
            if day.total >= minimum and day.total >= factor * max(median, 1.0):
                out.append((day, median))
        return out

    def quota(self, *, limit: int, observed_at: datetime) -> Quota | None:
        if not self.usage:
            return None
        latest = max(self.usage)
        return Quota(
            name=f"daily_api_calls ({latest.isoformat()})",
            used=self.usage[latest],
            limit=limit,
            period="day",
            observed_at=observed_at,
        )


def _day(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def parse_stats(usage_body: Any, errors_body: Any) -> ApiStats:
    """``/stats/usage/last7days`` and ``/stats/errors/last7days`` (either may be None when its call failed)."""
    out = ApiStats()
    for label, body in (("usage", usage_body), ("errors", errors_body)):
        if body is None:
            continue
        items, problem = results_of(body)
        if problem:
            out.problems.append(f"stats/{label}: {problem}")
        for item in items:
            day = _day(item.get("date")) if isinstance(item, Mapping) else None
            if day is None:
                out.problems.append(f"stats/{label}: an entry without a date was skipped")
                continue
            assert isinstance(item, Mapping)
            if label == "usage":
                raw_users = item.get("users")
                users: list[Any] = raw_users if isinstance(raw_users, list) else []
                total = _count(item.get("total")) or sum(
                    _count(u.get("count")) for u in users if isinstance(u, Mapping)
                )
                out.usage[day] = out.usage.get(day, 0) + total
                continue
            codes: dict[str, int] = {}
            for err in item.get("errors") or []:
                if isinstance(err, Mapping) and err.get("errorCode") is not None:
                    code = str(err["errorCode"])
                    codes[code] = codes.get(code, 0) + _count(err.get("count"))
            out.errors.append(DayErrors(day, _count(item.get("total")) or sum(codes.values()), codes))
    out.errors.sort(key=lambda d: d.day)
    return out


def _codes(by_code: Mapping[str, int], top: int = 3) -> str:
    ranked = sorted(by_code.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return ", ".join(f"{code} x{n:,}" for code, n in ranked)


def sync_integration(
    *,
    tool: str,
    crm: str,
    mappings: list[FieldMapping],
    stats: ApiStats | None,
    spike_factor: float,
    run_id: str,
) -> Integration:
    """The integration ``<tool>-><crm>`` with its mappings and, when given, the API statistics as sync evidence."""
    integration = Integration(
        id=ids.integration_id(tool, crm),
        source=tool,
        target=crm,
        direction="two-way",
        origin=Origin.discovered,
        status=IntegrationStatus.active,
        mappings=mappings,
        evidence_sources=[run_id],
    )
    if stats is None or not stats.days:
        return integration
    samples: list[str] = []
    spikes = stats.spikes(spike_factor)
    for day, median in spikes[-3:]:
        samples.append(
            f"REST API errors spiked on {day.day.isoformat()}: {day.total:,} (daily median {median:,.0f}); "
            f"codes {_codes(day.by_code)}"
        )
    totals: dict[str, int] = {}
    for day in stats.errors:
        for code, n in day.by_code.items():
            totals[code] = totals.get(code, 0) + n
    if totals:
        samples.append(f"REST API error codes over {stats.days} days: {_codes(totals, 5)}")
    latest = max((d.day for d in stats.errors), default=None)
    recent_spike = any(latest is not None and (latest - d.day).days <= 1 for d, _ in spikes)
    return integration.model_copy(
        update={
            "error_count": stats.error_total,
            "success_count": stats.successes,
            "window_days": stats.days,
            "error_samples": samples,
            "status": IntegrationStatus.error if recent_spike else IntegrationStatus.active,
        }
    )
