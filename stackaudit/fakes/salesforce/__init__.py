"""A fake Salesforce org: an org description served over real HTTP on loopback.

Public API::

    org = load_org(path_or_mapping)            # or synthetic_org() (200 objects, one with 800 custom fields)
    with FakeSalesforce(org, token="t", page_size=3, tooling_page_size=5) as fake:
        fake.base_url                           # http://127.0.0.1:<port>  (the instance URL)
        fake.faults.fail(times=2, status=503)   # also replace_body(), exhaust_daily(after), expire_session(after)
        fake.requests / fake.calls("GET", "/services/data/") / fake.non_read_requests()
        fake.org.touch("Lead")                  # Lead's metadata changed: the next describe is a 200, not a 304

    with serve_recorded_org() as (base_url, token):   # the demo's Northwind Analytics org
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from .load import load_org
from .org import FakeField, FakeOrg, FakeSObject, RecordSet, sf_id
from .server import FakeSalesforce, Faults, RecordedRequest
from .soql import SoqlError, parse_soql
from .synthetic import synthetic_description, synthetic_org

__all__ = [
    "DEMO_TOKEN",
    "FakeField",
    "FakeOrg",
    "FakeSObject",
    "FakeSalesforce",
    "Faults",
    "RecordSet",
    "RecordedRequest",
    "SoqlError",
    "load_org",
    "parse_soql",
    "recorded_org_path",
    "serve_recorded_org",
    "sf_id",
    "synthetic_description",
    "synthetic_org",
]

# The demo's access token: not a secret, the fake accepts only it (the demo sets SALESFORCE_ACCESS_TOKEN to it).
DEMO_TOKEN = "00DNORTHWIND!demo-access-token"  # noqa: S105 - a fixed demo value, not a credential


def recorded_org_path() -> Path:
    """The bundled description of the demo company's Salesforce org."""
    return Path(str(resources.files("stackaudit").joinpath("demo", "recorded", "salesforce", "org.json")))


@contextmanager
def serve_recorded_org(
    path: str | Path | None = None, *, token: str = DEMO_TOKEN, **options: Any
) -> Iterator[tuple[str, str]]:
    """Serve a recorded org (default: the demo's) on loopback; yields ``(base_url, token)``.

    ``base_url`` is the connector's ``instance_url``; ``options`` go to :class:`FakeSalesforce`.
    """
    org = load_org(path or recorded_org_path())
    with FakeSalesforce(org, token=token, **options) as fake:
        yield fake.base_url, token
