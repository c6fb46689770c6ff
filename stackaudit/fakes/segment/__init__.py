"""A fake Segment Public API: a workspace description served over real HTTP on loopback.

Public API::

    workspace = load_workspace(path_or_mapping)      # or synthetic_workspace(n_sources, ...)
    with FakeSegment(workspace, token="t", rate_limit=(600, 60.0), max_count=2) as fake:
        fake.base_url                                # http://127.0.0.1:<port>
        fake.faults.throttle(times=2, ms_before_next=1500)   # also fail(), replace_body()
        fake.requests / fake.calls("GET", "/delivery-overview/") / fake.non_read_requests()

    with serve_recorded_workspace() as (base_url, token):    # the demo's Northwind workspace
        ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from .server import ACCEPTED_MEDIA_TYPES, FakeSegment, Faults, RecordedRequest, rate_limit_body
from .workspace import DeliverySpec, FakeWorkspace, load_workspace, synthetic_workspace

__all__ = [
    "ACCEPTED_MEDIA_TYPES",
    "DEMO_TOKEN",
    "DeliverySpec",
    "FakeSegment",
    "FakeWorkspace",
    "Faults",
    "RecordedRequest",
    "load_workspace",
    "rate_limit_body",
    "recorded_workspace_path",
    "serve_recorded_workspace",
    "synthetic_workspace",
]

# The demo's token: not a secret, the fake accepts only it (the demo sets SEGMENT_TOKEN to it).
DEMO_TOKEN = "demo-northwind-segment-token"  # noqa: S105 - a fixed demo value, not a credential


def recorded_workspace_path() -> Path:
    """The bundled description of the demo company's Segment workspace."""
    return Path(str(resources.files("stackaudit").joinpath("demo", "recorded", "segment", "workspace.json")))


@contextmanager
def serve_recorded_workspace(
    path: str | Path | None = None, *, token: str = DEMO_TOKEN, **options: Any
) -> Iterator[tuple[str, str]]:
    """Serve a recorded workspace (default: the demo's) on loopback; yields ``(base_url, token)``.

    ``options`` go to :class:`FakeSegment`.
    """
    workspace = load_workspace(path or recorded_workspace_path())
    with FakeSegment(workspace, token=token, **options) as fake:
        yield fake.base_url, token
