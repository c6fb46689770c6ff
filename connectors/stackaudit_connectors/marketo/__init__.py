"""Marketo Engage: lead fields, custom objects, forms, smart campaigns, programs, the CRM sync and API usage."""
