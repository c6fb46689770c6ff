"""Config of the Marketo connector: one entry per Marketo Engage instance, read through a LaunchPoint custom service."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..base import ConnectorConfig

__all__ = ["FillRateMode", "MarketoConfig", "MarketoLimits"]

FillRateMode = Literal["extract", "off"]


class MarketoLimits(BaseModel):
    """The subscription's API limits. The connector paces itself under them; Marketo answers 606/615/607 if not."""

    model_config = ConfigDict(extra="forbid")

    calls_per_20s: int = Field(
        default=100, ge=1, description="Calls per rolling 20 seconds per instance (Marketo documents 100; code 606)."
    )
    concurrent_calls: int = Field(
        default=10, ge=1, description="Calls in flight at once per instance (Marketo documents 10; code 615)."
    )
    daily_calls: int = Field(
        default=50_000,
        ge=1,
        description="Daily call quota of the subscription (50,000 unless bought up; code 607): quota evidence.",
    )
    headroom: float = Field(
        default=0.9,
        gt=0,
        le=1,
        description="Fraction of the 20-second limit the connector uses (other users share it).",
    )


class MarketoConfig(ConnectorConfig):
    """A Marketo Engage instance read by an API-only user with a read-only role."""

    type: str = Field(default="marketo", description="Always `marketo`.")
    base_url: str = Field(
        description="The instance's REST host, e.g. `https://123-ABC-456.mktorest.com` (Admin > Web Services); any "
        "http(s) URL. A trailing `/rest` or `/identity` is accepted and dropped. Credentials go to this host only."
    )
    client_id: SecretStr | None = Field(
        default=None, description="Client Id of the LaunchPoint custom service, normally `${MARKETO_CLIENT_ID}`."
    )
    client_secret: SecretStr | None = Field(
        default=None,
        description="Client Secret of the LaunchPoint custom service, normally `${MARKETO_CLIENT_SECRET}`.",
    )
    crm: str | None = Field(
        default=None,
        description="Tool id of the CRM the native sync talks to. Default: the manifest's declared CRM, recognised "
        "through the vendor catalogue (Salesforce is assumed only when Marketo's own `sfdc*` fields show the sync).",
    )
    crm_objects: list[str] = Field(
        default_factory=lambda: ["Lead"],
        description="Salesforce objects the CRM-managed person fields are mapped to by name (Marketo syncs people with "
        "Leads and Contacts; add `Contact` to map both).",
    )
    api_stats_as_sync_evidence: bool = Field(
        default=True,
        description="Record the last 7 days of REST API calls and errors (`/stats/usage`, `/stats/errors`) as the CRM "
        "sync's success and error counts. Marketo exposes no per-sync counts; the API statistics are the nearest "
        "evidence and each error sample says so. Set false when no integration writes to the CRM through the API.",
    )
    error_spike_factor: float = Field(
        default=3.0, gt=1, description="A day with this many times the median daily API errors (and 50+) is a spike."
    )
    fill_rates: FillRateMode = Field(
        default="extract",
        description="`extract`: one bulk lead extract of the people created in the last `fill_window_days` (read-only "
        "lead permission; counts against the 500 MB daily export allowance), giving sampled fill rates of every lead "
        "field. `off`: fill rates are recorded as unknown. The CLI's `--fill-rates off` overrides it.",
    )
    fill_window_days: int = Field(
        default=30, ge=1, le=31, description="Window of the bulk extract's createdAt filter (Marketo allows 31 days)."
    )
    extract_poll_seconds: float = Field(
        default=30.0, gt=0, description="Seconds between status polls of the bulk extract job."
    )
    extract_max_wait_seconds: float = Field(
        default=900.0, gt=0, description="Longest wait for the bulk extract; past it fill rates stay unknown."
    )
    form_fields: bool = Field(default=True, description="Read each form's fields (one call per form) for references.")
    custom_objects: bool = Field(default=True, description="Also read custom object definitions and their fields.")
    limits: MarketoLimits = Field(default_factory=MarketoLimits, description="API limits of the subscription.")
    max_concurrency: int = Field(
        default=4, ge=1, le=8, description="Calls in flight at once (well under Marketo's 10, which other users share)."
    )
    timeout_seconds: float = Field(default=60.0, gt=0, description="Timeout of one HTTP request.")
    deadline_seconds: float = Field(
        default=3600.0, gt=0, description="Overall time budget of one pull; past it the pull ends as partial."
    )

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        url = value.rstrip("/")
        for suffix in ("/rest", "/identity"):
            url = url.removesuffix(suffix)
        return url

    @field_validator("crm")
    @classmethod
    def _slug(cls, value: str | None) -> str | None:
        return value.strip() or None if value is not None else None
