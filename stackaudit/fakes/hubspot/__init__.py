"""A fake HubSpot API: a portal description served over real HTTP on loopback.

Public API::

    portal = load_portal(path_or_mapping)      # or synthetic_portal(n_properties, n_contacts)
    with FakeHubSpot(portal, token="t", rate_limit=(190, 10.0), max_page_size=2) as fake:
        fake.base_url                           # http://127.0.0.1:<port>
        fake.faults.fail(times=3, status=500)   # also truncate(), replace_body(), exhaust_daily()
        fake.requests / fake.calls("GET", "/crm/v3/") / fake.non_read_requests()

    with serve_recorded_portal() as (base_url, token):   # the demo's Northwind Analytics portal
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from .portal import FakeObject, FakePortal, RecordSet, load_portal, synthetic_portal
from .server import FakeHubSpot, Faults, RecordedRequest

__all__ = [
    "DEMO_TOKEN",
    "FakeHubSpot",
    "FakeObject",
    "FakePortal",
    "Faults",
    "RecordSet",
    "RecordedRequest",
    "load_portal",
    "recorded_portal_path",
    "serve_recorded_portal",
    "synthetic_portal",
]

# The demo's token: not a secret, the fake accepts only it (the demo sets HUBSPOT_TOKEN to it).
DEMO_TOKEN = "demo-northwind-token"  # noqa: S105 - a fixed demo value, not a credential


def recorded_portal_path() -> Path:
    """The bundled description of the demo company's HubSpot portal."""
    return Path(str(resources.files("stackaudit").joinpath("demo", "recorded", "hubspot", "portal.json")))


@contextmanager
def serve_recorded_portal(
    path: str | Path | None = None, *, token: str = DEMO_TOKEN, **options: Any
) -> Iterator[tuple[str, str]]:
    """Serve a recorded portal (default: the demo's) on loopback; yields ``(base_url, token)``.

    ``options`` go to :class:`FakeHubSpot` (the demo keeps HubSpot's real limits, so the connector paces itself
    exactly as against the real API).
    """
    portal = load_portal(path or recorded_portal_path())
    with FakeHubSpot(portal, token=token, **options) as fake:
        yield fake.base_url, token
