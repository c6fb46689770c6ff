"""The HubSpot connector: properties, objects, pipelines, owners, forms, workflows, lists, fill rates and
Salesforce-sync evidence of one portal, within HubSpot's rate limits. See :mod:`.api` for HubSpot's paging,
limits, scopes and quirks."""

from .config import HubSpotConfig, HubSpotLimits
from .connector import HubSpotConnector

__all__ = ["HubSpotConfig", "HubSpotConnector", "HubSpotLimits"]
