"""Config of the Segment connector: one entry per Segment workspace, read through the Public API."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from ..base import ConnectorConfig

__all__ = ["SegmentConfig"]


class SegmentConfig(ConnectorConfig):
    """A Segment workspace read with a Public API token holding a read-only role."""

    type: str = Field(default="segment", description="Always `segment`.")
    token: SecretStr | None = Field(
        default=None,
        description="Public API workspace token, normally `${SEGMENT_TOKEN}`; sent as `Authorization: Bearer`. "
        "A role of Workspace Member or Source Read-only is enough.",
    )
    base_url: str = Field(
        default="https://api.segmentapis.com",
        description="Public API host: `https://api.segmentapis.com`, `https://eu1.api.segmentapis.com` for EU "
        "workspaces, or any http(s) URL (a proxy, a local fake). The token is sent to this host only.",
    )
    page_size: int = Field(default=200, ge=1, le=200, description="`pagination.count` of list calls (1 to 200).")
    delivery_health: bool = Field(
        default=True,
        description="Read each enabled connection's delivered and failed events (Delivery Overview, a beta API): "
        "two calls per connection, a third when the last delivery is recent (minute precision).",
    )
    delivery_window_days: int = Field(
        default=7, ge=1, le=14, description="Window of the delivery counts, in days (hourly data covers 14 days)."
    )
    warehouses: bool = Field(default=True, description="Read each source's connected warehouses (one call per source).")
    tracking_plans: bool = Field(
        default=True, description="Read tracking plans and the sources each governs (one call per plan)."
    )
    requests_per_second: float = Field(
        default=5.0,
        gt=0,
        description="Pace of calls. Segment does not publish its limits (they depend on the token, the caller's IP "
        "and each request's cost); `X-RateLimit-*` headers and 429 bodies slow the connector further when needed.",
    )
    max_concurrency: int = Field(default=4, ge=1, le=16, description="Requests in flight at once.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one HTTP request.")
    deadline_seconds: float = Field(
        default=1800.0, gt=0, description="Overall time budget of one pull; past it the pull ends as partial."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")
