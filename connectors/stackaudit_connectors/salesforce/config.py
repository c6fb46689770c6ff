"""Config of the Salesforce connector: one entry per org."""

from __future__ import annotations

import re
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from ..base import ConnectorConfig
from ..files import env_reference

__all__ = ["DEFAULT_OBJECTS", "FillRateMode", "SalesforceConfig"]

FillRateMode = Literal["exact", "sampled", "off"]

# Standard objects marketing and sales use; every custom object, and every standard object carrying custom fields,
# is added to them.
DEFAULT_OBJECTS: tuple[str, ...] = (
    "Lead",
    "Contact",
    "Account",
    "Opportunity",
    "Campaign",
    "CampaignMember",
    "Case",
    "Task",
    "Event",
    "User",
)


class SalesforceConfig(ConnectorConfig):
    """A Salesforce org read with an access token (or an OAuth client-credentials app) and read-only permissions."""

    type: str = Field(default="salesforce", description="Always `salesforce`.")
    instance_url: str = Field(
        description="The org's My Domain URL, e.g. `https://northwind.my.salesforce.com`; any http(s) URL (a proxy, "
        "or a local fake), or `${VAR}` to read it from the environment. Tokens are sent to this host only."
    )
    access_token: SecretStr | None = Field(
        default=None,
        description="An OAuth access token (session id), normally `${SALESFORCE_ACCESS_TOKEN}`; sent as "
        "`Authorization: Bearer`. Give this, or `client_id` and `client_secret`.",
    )
    client_id: SecretStr | None = Field(
        default=None,
        description="Consumer key of a connected app with the client-credentials flow enabled, e.g. "
        "`${SALESFORCE_CLIENT_ID}`; the token comes from `{instance_url}/services/oauth2/token`.",
    )
    client_secret: SecretStr | None = Field(
        default=None, description="Consumer secret of that connected app, e.g. `${SALESFORCE_CLIENT_SECRET}`."
    )
    api_version: str = Field(default="62.0", description="REST API version, e.g. `62.0`.")
    max_api_share: float = Field(
        default=0.10,
        gt=0,
        le=1,
        description="Largest share of the org's remaining daily API requests one pull may use. The connector "
        "estimates its calls before the expensive reads and refuses to go on above it. `--max-api-share` "
        "overrides it.",
    )
    fill_rates: FillRateMode = Field(
        default="sampled",
        description="`exact`: count every record of every object. `sampled`: count every record of objects up to "
        "`exact_max_records`, and only the records created in the last `sample_days` of larger ones. `off`: no "
        "fill rates. The CLI's `--fill-rates` overrides it.",
    )
    exact_max_records: int = Field(
        default=2_000_000,
        ge=1,
        description="Objects with more records are sampled in `sampled` mode (aggregate counts over millions of "
        "rows risk QUERY_TIMEOUT); a QUERY_TIMEOUT falls back to sampling in any mode.",
    )
    sample_days: int = Field(default=90, ge=1, description="Window of recently created records a sample counts.")
    sample_size: int = Field(
        default=200,
        ge=10,
        le=2000,
        description="Newest records read for fields that can be neither counted nor filtered (long text areas).",
    )
    newest_value_queries: int = Field(
        default=25,
        ge=0,
        description="At most this many `MAX(LastModifiedDate) WHERE field != null` queries per pull, for the "
        "least-filled custom fields (when was a value last written).",
    )
    objects: list[str] = Field(
        default_factory=lambda: list(DEFAULT_OBJECTS), description="Standard objects always audited."
    )
    exclude_objects: list[str] = Field(default_factory=list, description="Objects never audited (API names).")
    custom_field_limit: int | None = Field(
        default=None, ge=1, description="Custom fields allowed per object in this edition (500 Enterprise, 800 "
        "Unlimited); recorded on each object when set."
    )
    max_query_chars: int = Field(
        default=4000, ge=500, le=100_000, description="Longest SOQL statement sent (longer ones are split)."
    )
    max_counts_per_query: int = Field(
        default=100, ge=1, le=200, description="`COUNT(field)` expressions in one aggregate query."
    )
    composite_size: int = Field(default=25, ge=1, le=25, description="Subrequests per composite request.")
    composite_queries: int = Field(
        default=5, ge=1, le=25, description="Query subrequests per composite request (Salesforce allows 5)."
    )
    dependency_row_cap: int = Field(
        default=2000, ge=1, description="Rows a MetadataComponentDependency query returns at most (no paging)."
    )
    max_concurrency: int = Field(default=4, ge=1, le=16, description="Requests in flight at once.")
    requests_per_second: float = Field(
        default=20.0, gt=0, description="Pace of requests (Salesforce has no per-second limit; be a good tenant)."
    )
    timeout_seconds: float = Field(default=120.0, gt=0, description="Timeout of one HTTP request.")
    deadline_seconds: float = Field(
        default=3600.0, gt=0, description="Overall time budget of one pull; past it the pull ends as partial."
    )

    @field_validator("instance_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if env_reference(value) is None and not value.startswith(("http://", "https://")):
            raise ValueError("instance_url must start with http:// or https:// (or be ${VAR})")
        return value.strip().rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        value = value.strip().lstrip("vV")
        if not re.fullmatch(r"\d{2}\.\d", value):
            raise ValueError("api_version must look like 62.0")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if self.access_token is None and (self.client_id is None or self.client_secret is None):
            raise ValueError("set access_token, or client_id and client_secret (OAuth client credentials)")
        return self
