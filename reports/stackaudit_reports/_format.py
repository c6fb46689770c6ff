"""Formatting of money, dates, ages and shares for people: the one place the report's wording of numbers lives.

Pure functions of their arguments (time is always passed in), so view-model tests can pin the exact text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

__all__ = [
    "format_age",
    "format_date",
    "format_datetime",
    "format_duration",
    "format_interval",
    "format_money",
    "format_money_compact",
    "format_percent",
]

# Currencies whose symbol goes before the amount; any other ISO code is written after it ("12,000 CHF").
_PREFIX_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "AUD": "A$", "CAD": "C$"}


def _with_currency(number: str, currency: str) -> str:
    code = currency.upper()
    symbol = _PREFIX_SYMBOLS.get(code)
    if symbol is None:
        return f"{number} {code}"
    if number.startswith("-"):
        return f"-{symbol}{number[1:]}"
    return f"{symbol}{number}"


def format_money(amount: float, currency: str = "USD") -> str:
    """Whole units with thousands separators: ``$12,400``, ``9,000 CHF``. Annual figures need no cents."""
    return _with_currency(f"{amount:,.0f}", currency)


def format_money_compact(amount: float, currency: str = "USD") -> str:
    """Short form for headline figures: ``$950``, ``$48k``, ``$1.2M``."""
    size = abs(amount)
    if size >= 1_000_000:
        number = f"{amount / 1_000_000:,.1f}".removesuffix(".0") + "M"
    elif size >= 10_000:
        number = f"{amount / 1000:,.0f}k"
    elif size >= 1000:
        number = f"{amount / 1000:,.1f}".removesuffix(".0") + "k"
    else:
        number = f"{amount:,.0f}"
    return _with_currency(number, currency)


def _utc(value: datetime) -> datetime:
    """Aware datetimes converted to UTC; naive ones are taken to be UTC already (as the artifacts write them)."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def format_date(value: date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return _utc(value).date().isoformat()
    return value.isoformat()


def format_datetime(value: datetime | None) -> str | None:
    if value is None:
        return None
    return _utc(value).strftime("%Y-%m-%d %H:%M UTC")


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def format_duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``5 h``, ``3 days``: the largest unit that keeps the number small."""
    seconds = abs(seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = seconds / 60
    if minutes < 90:
        return f"{minutes:.0f} min"
    hours = minutes / 60
    if hours < 48:
        return f"{hours:.0f} h"
    return _plural(round(hours / 24), "day")


def format_age(value: datetime | None, now: datetime) -> str | None:
    """How long ago ``value`` was, relative to the report's ``now``: ``3 days ago``, ``in 2 h``."""
    if value is None:
        return None
    delta = (_utc(now) - _utc(value)).total_seconds()
    if abs(delta) < 60:
        return "just now"
    text = format_duration(delta)
    return f"{text} ago" if delta > 0 else f"in {text}"


def format_interval(minutes: int | None) -> str | None:
    """An expected sync interval: ``every 15 min``, ``every 6 h``, ``every day``."""
    if minutes is None:
        return None
    if minutes % 1440 == 0:
        days = minutes // 1440
        return "every day" if days == 1 else f"every {days} days"
    if minutes % 60 == 0:
        return f"every {minutes // 60} h"
    return f"every {minutes} min"


def format_percent(share: float | None) -> str | None:
    """``83%``; shares between 0 and 1% show as ``<1%`` so a small non-zero share never reads as none."""
    if share is None:
        return None
    if 0 < share < 0.01:
        return "<1%"
    return f"{share * 100:.0f}%"
