"""The procurement view: what overlaps, what it costs, how seats are used, what renews when, and what is at stake.

Money is summed in the stack's main currency only; tools billed in another currency are named beside the total
rather than converted at a rate the report cannot know. Removed tools are left out everywhere: they cost
nothing any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from stackaudit_inventory import AuditResult, Category, FindingStatus, Snapshot, Tool, ToolStatus
from stackaudit_inventory.catalogue import load_catalogue

from ._format import format_date, format_money, format_percent
from ._headlines import money_at_stake

__all__ = [
    "AtStakeRow",
    "OverlapRow",
    "ProcurementView",
    "RenewalItem",
    "RenewalMonth",
    "SeatRow",
    "SpendRow",
    "build_procurement",
    "capability_label",
]

NOTICE_SOON_DAYS = 90
CALENDAR_MONTHS = 12
_AT_STAKE_CATEGORIES = (Category.redundant_tool, Category.unused_tool)


def capability_label(slug: str) -> str:
    """The catalogue's human label for a capability (``CRM``, ``Email marketing``); the slug, readable, if unknown."""
    info = load_catalogue().capabilities.get(slug)
    return info.label if info is not None else slug.replace("-", " ").capitalize()


@dataclass(frozen=True, slots=True)
class OverlapRow:
    tool: str
    name: str
    anchor: str
    annual_cost: str | None
    cells: tuple[str, ...]  # per overlapping capability: "primary", "also" or ""


@dataclass(frozen=True, slots=True)
class SpendRow:
    capability: str
    label: str
    tools: tuple[str, ...]
    annual: str
    share: str  # of the total, "31%"
    bar: int  # bar width in percent of the largest category


@dataclass(frozen=True, slots=True)
class SeatRow:
    tool: str
    name: str
    anchor: str
    used: int
    bought: int
    share: str
    bar: int
    low: bool
    unused_cost: str | None


@dataclass(frozen=True, slots=True)
class RenewalItem:
    tool: str
    name: str
    anchor: str
    renewal: str | None
    notice: str | None
    act_by: str
    days_left: int
    state: str  # "passed", "soon" or ""
    auto_renew: bool | None
    annual_cost: str | None


@dataclass(frozen=True, slots=True)
class RenewalMonth:
    key: str  # "2026-12"
    label: str  # "December 2026"
    items: tuple[RenewalItem, ...]


@dataclass(frozen=True, slots=True)
class AtStakeRow:
    anchor: str
    rule: str
    title: str
    status: str
    amount: str


@dataclass(frozen=True, slots=True)
class ProcurementView:
    currency: str
    overlap_capabilities: tuple[tuple[str, str], ...]  # (slug, label) held by two tools or more
    overlap_rows: tuple[OverlapRow, ...]
    spend: tuple[SpendRow, ...]
    spend_total: str
    spend_unpriced: tuple[str, ...]  # tools in use without a known cost
    other_currency: tuple[str, ...]  # "Tool (CHF 9,000)" not summed
    seats: tuple[SeatRow, ...]
    unused_seats: int
    unused_seat_cost: str
    renewals: tuple[RenewalMonth, ...]
    renewal_count: int
    notice_passed: tuple[RenewalItem, ...]
    no_renewal_date: tuple[str, ...]  # paid tools in use whose renewal is unknown
    at_stake: tuple[AtStakeRow, ...]
    at_stake_total: str


def _in_use(snapshot: Snapshot) -> list[Tool]:
    return sorted(
        (t for t in snapshot.tools if t.status is not ToolStatus.removed), key=lambda t: (t.name.casefold(), t.id)
    )


def _money(tool: Tool) -> str | None:
    return format_money(tool.cost.annual, tool.cost.currency) if tool.cost is not None else None


def _overlap(tools: list[Tool]) -> tuple[tuple[tuple[str, str], ...], tuple[OverlapRow, ...]]:
    holders: dict[str, int] = {}
    for t in tools:
        for cap in set(t.capabilities):
            holders[cap] = holders.get(cap, 0) + 1
    shared = sorted(
        (c for c, n in holders.items() if n > 1), key=lambda c: (-holders[c], capability_label(c).casefold())
    )
    rows = []
    for t in tools:
        cells = tuple(
            "primary" if t.primary_capability == c else ("also" if c in t.capabilities else "") for c in shared
        )
        if any(cells):
            rows.append(OverlapRow(t.id, t.name, f"tool-{t.id}", _money(t), cells))
    rows.sort(key=lambda r: (next(i for i, c in enumerate(r.cells) if c), r.name.casefold()))
    return tuple((c, capability_label(c)) for c in shared), tuple(rows)


def _spend(tools: list[Tool], currency: str) -> tuple[tuple[SpendRow, ...], float]:
    by_cap: dict[str, list[Tool]] = {}
    for t in tools:
        if t.cost is not None and t.cost.currency.upper() == currency:
            by_cap.setdefault(t.primary_capability or "uncategorised", []).append(t)
    totals = {c: sum(t.cost.annual for t in members if t.cost) for c, members in by_cap.items()}
    grand = sum(totals.values())
    top = max(totals.values(), default=0.0)
    rows = tuple(
        SpendRow(
            capability=c,
            label=capability_label(c) if c != "uncategorised" else "Uncategorised",
            tools=tuple(t.name for t in sorted(by_cap[c], key=lambda t: -(t.cost.annual if t.cost else 0))),
            annual=format_money(totals[c], currency),
            share=format_percent(totals[c] / grand if grand else 0.0) or "",
            bar=round(100 * totals[c] / top) if top else 0,
        )
        for c in sorted(totals, key=lambda c: (-totals[c], c))
    )
    return rows, grand


def _seats(tools: list[Tool], currency: str) -> tuple[tuple[SeatRow, ...], int, float]:
    rows, unused_total, unused_cost = [], 0, 0.0
    for t in tools:
        seats = t.seats
        if seats is None or seats.bought is None or seats.used is None or not seats.bought:
            continue
        share = seats.used / seats.bought
        unused = max(seats.bought - seats.used, 0)
        cost = t.cost.annual * unused / seats.bought if t.cost is not None else None
        unused_total += unused
        if cost is not None and t.cost is not None and t.cost.currency.upper() == currency:
            unused_cost += cost
        rows.append(
            SeatRow(
                tool=t.id,
                name=t.name,
                anchor=f"tool-{t.id}",
                used=seats.used,
                bought=seats.bought,
                share=format_percent(share) or "",
                bar=min(round(share * 100), 100),
                low=share < 0.5,
                unused_cost=format_money(cost, t.cost.currency) if cost and t.cost is not None else None,
            )
        )
    rows.sort(key=lambda r: (r.used / r.bought, r.name.casefold()))
    return tuple(rows), unused_total, unused_cost


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def _renewals(tools: list[Tool], now: datetime) -> tuple[tuple[RenewalMonth, ...], tuple[RenewalItem, ...]]:
    today = now.date()
    end = _add_months(date(today.year, today.month, 1), CALENDAR_MONTHS)
    upcoming: list[RenewalItem] = []
    passed: list[RenewalItem] = []
    for t in tools:
        c = t.contract
        if c is None or c.renewal is None or c.renewal < today:
            continue
        act_by = c.notice_date or c.renewal
        state = ""
        if c.notice_date is not None and c.notice_date < today:
            state = "passed"
        elif (act_by - today).days <= NOTICE_SOON_DAYS:
            state = "soon"
        item = RenewalItem(
            tool=t.id,
            name=t.name,
            anchor=f"tool-{t.id}",
            renewal=format_date(c.renewal),
            notice=format_date(c.notice_date),
            act_by=format_date(act_by) or "",
            days_left=(act_by - today).days,
            state=state,
            auto_renew=c.auto_renew,
            annual_cost=_money(t),
        )
        if state == "passed":
            passed.append(item)
        elif act_by < end:
            upcoming.append(item)
    months: dict[str, list[RenewalItem]] = {}
    for item in sorted(upcoming, key=lambda i: (i.act_by, i.name.casefold())):
        months.setdefault(item.act_by[:7], []).append(item)
    out = []
    for key, items in months.items():
        label = date(int(key[:4]), int(key[5:]), 1).strftime("%B %Y")
        out.append(RenewalMonth(key=key, label=label, items=tuple(items)))
    return tuple(out), tuple(sorted(passed, key=lambda i: (i.renewal or "", i.name.casefold())))


def _at_stake(result: AuditResult, currency: str, anchors: dict[str, str]) -> tuple[tuple[AtStakeRow, ...], float]:
    findings = [
        f
        for f in result.findings
        if f.category in _AT_STAKE_CATEGORIES and f.cost_at_stake is not None and f.status is FindingStatus.open
    ]
    rows = tuple(
        AtStakeRow(
            anchor=anchors.get(f.fingerprint, "findings"),
            rule=f.rule,
            title=f.title,
            status=f.status.value,
            amount=format_money(f.cost_at_stake or 0.0, currency),
        )
        for f in sorted(findings, key=lambda f: (-(f.cost_at_stake or 0.0), f.rule, f.fingerprint))
    )
    return rows, money_at_stake(findings)


def build_procurement(
    snapshot: Snapshot, result: AuditResult, now: datetime, currency: str, anchors: dict[str, str]
) -> ProcurementView:
    """Overlap matrix, spend by primary capability, seat use, the next 12 months of renewals, money at stake."""
    tools = _in_use(snapshot)
    capabilities, overlap_rows = _overlap(tools)
    spend, total = _spend(tools, currency)
    seats, unused, unused_cost = _seats(tools, currency)
    renewals, passed = _renewals(tools, now)
    at_stake, stake_total = _at_stake(result, currency, anchors)
    return ProcurementView(
        currency=currency,
        overlap_capabilities=capabilities,
        overlap_rows=overlap_rows,
        spend=spend,
        spend_total=format_money(total, currency),
        spend_unpriced=tuple(t.name for t in tools if t.cost is None),
        other_currency=tuple(
            f"{t.name} ({_money(t)})" for t in tools if t.cost is not None and t.cost.currency.upper() != currency
        ),
        seats=seats,
        unused_seats=unused,
        unused_seat_cost=format_money(unused_cost, currency),
        renewals=renewals,
        renewal_count=sum(len(m.items) for m in renewals),
        notice_passed=passed,
        no_renewal_date=tuple(
            t.name
            for t in tools
            if t.cost is not None and t.cost.amount > 0 and (t.contract is None or t.contract.renewal is None)
        ),
        at_stake=at_stake,
        at_stake_total=format_money(stake_total, currency),
    )
