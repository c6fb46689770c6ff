"""The built-in rule catalogue: one module per rule, grouped by category folder.

Nothing is imported at package load; :func:`builtin_rules` imports the modules when the registry first needs
them (it is also what the ``builtin`` entry point of the ``stackaudit.rules`` group names).
"""

from __future__ import annotations

import importlib

__all__ = ["BUILTIN_RULES", "builtin_rules"]

# "module:Class", relative to this package. Keep sorted by rule id.
BUILTIN_RULES: tuple[str, ...] = (
    "broken_sync.bs001_high_error_rate:HighErrorRateRule",
    "broken_sync.bs002_stale_sync:StaleSyncRule",
    "hygiene.hy003_tool_without_owner:ToolWithoutOwnerRule",
    "hygiene.hy004_paid_tool_without_renewal:PaidToolWithoutRenewalRule",
    "lifecycle_drift.lc002_missing_definition:MissingLifecycleDefinitionRule",
    "orphaned_field.of001_empty_unreferenced:EmptyUnreferencedFieldRule",
    "redundant_tool.rt001_same_capability:SameCapabilityToolsRule",
    "unused_tool.ut002_unused_seats:UnusedSeatsRule",
    "unused_tool.ut003_notice_date_near:NoticeDateNearRule",
    # Engine rules: computed from the waivers file by the engine, documented like any other rule.
    "..audit.waivers:ExpiredWaiverRule",
    "..audit.waivers:UnusedWaiverRule",
)


def builtin_rules() -> list[type]:
    """Import and return the built-in rule classes (validated by the registry, not here)."""
    out = []
    for ref in BUILTIN_RULES:
        module, _, name = ref.partition(":")
        relative = module if module.startswith(".") else f".{module}"
        out.append(getattr(importlib.import_module(relative, __name__), name))
    return out
