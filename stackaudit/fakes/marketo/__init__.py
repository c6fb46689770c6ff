"""A fake Marketo REST API: an instance description served over real HTTP on loopback.

Public API::

    instance = load_instance(path_or_mapping)        # or synthetic_instance(n_fields, n_forms, ...)
    with FakeMarketo(instance, client_id="i", client_secret="s", clock=fake_clock, max_page_size=2) as fake:
        fake.base_url                                # http://127.0.0.1:<port>
        fake.faults.code("606", times=2)             # also fail(), exhaust_daily(), expire_token_after()
        fake.expire_token()                          # the next REST call gets 602
        fake.requests / fake.calls("GET", "/rest/") / fake.non_read_requests() / fake.codes()

    with serve_recorded_instance() as (base_url, client_id, client_secret):   # the demo's Northwind instance
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from .instance import FakeField, FakeInstance, load_instance, synthetic_instance
from .server import FakeMarketo, Faults, RecordedRequest

__all__ = [
    "DEMO_CLIENT_ID",
    "DEMO_CLIENT_SECRET",
    "FakeField",
    "FakeInstance",
    "FakeMarketo",
    "Faults",
    "RecordedRequest",
    "load_instance",
    "recorded_instance_path",
    "serve_recorded_instance",
    "synthetic_instance",
]

# The demo's credentials: not secrets, the fake accepts only them (the demo sets MARKETO_CLIENT_ID/SECRET to them).
DEMO_CLIENT_ID = "demo-northwind-marketo"
DEMO_CLIENT_SECRET = "demo-northwind-marketo-secret"  # noqa: S105 - a fixed demo value, not a credential


def recorded_instance_path() -> Path:
    """The bundled description of the demo company's Marketo instance."""
    return Path(str(resources.files("stackaudit").joinpath("demo", "recorded", "marketo", "instance.json")))


@contextmanager
def serve_recorded_instance(
    path: str | Path | None = None,
    *,
    client_id: str = DEMO_CLIENT_ID,
    client_secret: str = DEMO_CLIENT_SECRET,
    **options: Any,
) -> Iterator[tuple[str, str, str]]:
    """Serve a recorded instance (default: the demo's) on loopback; yields ``(base_url, client_id, client_secret)``.

    ``options`` go to :class:`FakeMarketo` (the demo keeps Marketo's real limits, so the connector paces itself
    exactly as against the real API). The bulk extract job is complete at its first status poll (``bulk_polls=0``)
    unless ``options`` say otherwise, so the demo never waits a poll interval.
    """
    instance = load_instance(path or recorded_instance_path())
    options.setdefault("bulk_polls", 0)
    with FakeMarketo(instance, client_id=client_id, client_secret=client_secret, **options) as fake:
        yield fake.base_url, client_id, client_secret
