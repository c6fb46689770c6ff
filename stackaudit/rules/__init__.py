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
    "broken_sync.bs003_missing_mapped_field:MissingMappedFieldRule",
    "broken_sync.bs004_incompatible_mapping:IncompatibleMappingRule",
    "broken_sync.bs005_picklist_drift:PicklistDriftRule",
    "broken_sync.bs006_fill_rate_divergence:FillRateDivergenceRule",
    "broken_sync.bs007_competing_writers:CompetingWritersRule",
    "broken_sync.bs008_sync_loop:SyncLoopRule",
    "broken_sync.bs009_idle_integration:IdleIntegrationRule",
    "broken_sync.bs010_disabled_but_configured:DisabledButConfiguredRule",
    "duplicate_field.df001_near_duplicate_fields:NearDuplicateFieldsRule",
    "duplicate_field.df002_unmapped_concept:UnmappedConceptRule",
    "hygiene.hy001_field_without_description:FieldWithoutDescriptionRule",
    "hygiene.hy002_near_field_limit:NearFieldLimitRule",
    "hygiene.hy003_tool_without_owner:ToolWithoutOwnerRule",
    "hygiene.hy004_paid_tool_without_renewal:PaidToolWithoutRenewalRule",
    "hygiene.hy005_api_quota_high:ApiQuotaHighRule",
    "lifecycle_drift.lc001_unmapped_stage_values:UnmappedStageValuesRule",
    "lifecycle_drift.lc002_missing_definition:MissingLifecycleDefinitionRule",
    "lifecycle_drift.lc003_stale_stage_mapping:StaleStageMappingRule",
    "orphaned_field.of001_empty_unreferenced:EmptyUnreferencedFieldRule",
    "orphaned_field.of002_almost_empty_unreferenced:AlmostEmptyUnreferencedFieldRule",
    "orphaned_field.of003_stale_values:StaleFieldRule",
    "orphaned_field.of004_inactive_references_only:InactiveReferencesOnlyFieldRule",
    "orphaned_field.of005_removed_tool_fields:RemovedToolFieldsRule",
    "redundant_tool.rt001_same_capability:SameCapabilityToolsRule",
    "redundant_tool.rt002_covered_by_suite:CoveredBySuiteRule",
    "unused_tool.ut001_unused_tool:UnusedToolRule",
    "unused_tool.ut002_unused_seats:UnusedSeatsRule",
    "unused_tool.ut003_notice_date_near:NoticeDateNearRule",
    "unused_tool.ut004_shadow_tool:ShadowToolRule",
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
