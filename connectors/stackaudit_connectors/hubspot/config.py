"""Config of the HubSpot connector: one entry per HubSpot account (portal)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..base import ConnectorConfig

__all__ = ["DEFAULT_OBJECTS", "FillRateMode", "HubSpotConfig", "HubSpotLimits"]

FillRateMode = Literal["exact", "sampled", "off"]

# Standard objects that carry properties. Custom objects are added from the schemas API.
DEFAULT_OBJECTS: tuple[str, ...] = (
    "contacts",
    "companies",
    "deals",
    "tickets",
    "products",
    "line_items",
    "quotes",
    "calls",
    "emails",
    "meetings",
    "notes",
    "tasks",
)


class HubSpotLimits(BaseModel):
    """The account's API limits. The connector paces itself just under them, so HubSpot never has to say 429."""

    model_config = ConfigDict(extra="forbid")

    requests_per_10s: int = Field(
        default=100,
        ge=1,
        description="Burst limit per rolling 10 seconds: 100 (Free, Starter, public apps), 190 (Professional, "
        "Enterprise), 250 (API limit increase pack). When HubSpot sends `X-HubSpot-RateLimit-Max`, that wins.",
    )
    search_per_second: float = Field(
        default=4.0, gt=0, description="CRM search limit, requests per second per token (HubSpot documents 4)."
    )
    headroom: float = Field(
        default=0.9, gt=0, le=1, description="Fraction of each limit the connector uses (latency and clock skew)."
    )


class HubSpotConfig(ConnectorConfig):
    """A HubSpot portal read with a private-app (or OAuth) token and read-only scopes."""

    type: str = Field(default="hubspot", description="Always `hubspot`.")
    token: SecretStr | None = Field(
        default=None,
        description="Private-app or OAuth access token, normally `${HUBSPOT_TOKEN}`; sent as `Authorization: Bearer`.",
    )
    base_url: str = Field(
        default="https://api.hubapi.com",
        description="API base URL; any http(s) URL (a proxy, or a local fake). The token is sent to this host only.",
    )
    limits: HubSpotLimits = Field(default_factory=HubSpotLimits, description="Rate limits of the account's tier.")
    fill_rates: FillRateMode = Field(
        default="sampled",
        description="`sampled`: read a sample of records (many properties per call), then confirm with exact "
        "search counts every custom property that looks empty. `exact`: exact counts for every property. `off`: "
        "no fill rates. The CLI's `--fill-rates` overrides it.",
    )
    sample_size: int = Field(
        default=1000, ge=100, le=10_000, description="Records read per object for sampled fill rates."
    )
    objects: list[str] = Field(
        default_factory=lambda: list(DEFAULT_OBJECTS),
        description="Standard object types to read (API names such as `contacts`, `line_items`).",
    )
    custom_objects: bool = Field(default=True, description="Also read every custom object's schema and properties.")
    max_concurrency: int = Field(default=4, ge=1, le=16, description="Requests in flight at once.")
    timeout_seconds: float = Field(default=30.0, gt=0, description="Timeout of one HTTP request.")
    deadline_seconds: float = Field(
        default=3600.0, gt=0, description="Overall time budget of one pull; past it the pull ends as partial."
    )
    max_properties_chars: int = Field(
        default=3000,
        ge=200,
        description="Longest `properties=` list (URL-encoded characters) in one record read; longer lists are "
        "split across calls, since HubSpot rejects very long URLs.",
    )
    max_filter_groups: int = Field(
        default=5, ge=1, le=6, description="Filter groups per CRM search (HubSpot: 5 since 2024-08; the spec says 6)."
    )
    max_search_properties: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Properties requested per CRM search when sampling the newest records (no documented maximum).",
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/")
