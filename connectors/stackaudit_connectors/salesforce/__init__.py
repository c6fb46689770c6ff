"""The Salesforce connector (``type: salesforce``): objects, fields, where-used, fill rates, flows, installed
packages and connected-app activity of one org, within a share of its daily API allocation.

Modules: :mod:`.config` (the config entry), :mod:`.api` (HTTP and paging; its docstring records Salesforce's paging,
limits, read-only permissions and quirks), :mod:`.parse` and :mod:`.parse_assets` (pure JSON -> inventory),
:mod:`.describe`, :mod:`.deps` and :mod:`.fill` (describes with 304 reuse, partitioned where-used, batched fill
rates), :mod:`.pull` and :mod:`.connector` (orchestration, quota guard, coverage accounting).
"""
