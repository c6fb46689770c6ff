"""Pulling the assets that use properties: forms (active and archived), workflows (list, then one call per flow
for its details), lists (search, then filter definitions in batches). Each asset is kept even when its details
could not be read (then without references, and the references coverage says so)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackaudit_inventory import Capability, SourceError

from ..http import HttpClient, HttpError, MalformedError, run_bounded
from ..http.concurrency import STOP_ERRORS
from . import api
from .parse import results_of
from .parse_assets import ObjectNames, flow_asset, form_asset, list_asset
from .state import PullState

__all__ = ["pull_flows", "pull_forms", "pull_lists"]

REFS = Capability.references


def _items(client: HttpClient, page: Any, key: str, path: str) -> list[Any]:
    items, problem = results_of(page, key)
    if problem:
        raise MalformedError(client.connector, problem, path=path)
    return items


def _bad_item(state: PullState, what: str, index: int) -> None:
    state.failed(
        REFS,
        what,
        SourceError(
            code="malformed",
            message=f"connector '{state.connector}': {what}: item #{index} has no id and was skipped",
            capability=REFS,
            where=what,
        ),
    )


def pull_forms(client: HttpClient, state: PullState, *, objects: ObjectNames) -> None:
    for archived in (False, True):
        what = "archived forms" if archived else "forms"
        with state.step(REFS, what):
            for page in api.iter_forms(client, archived=archived):
                for i, raw in enumerate(_items(client, page, "results", "/marketing/v3/forms")):
                    if not isinstance(raw, Mapping) or raw.get("id") is None:
                        _bad_item(state, what, i)
                        continue
                    asset, refs = form_asset(raw, tool=state.tool, objects=objects)
                    state.assets.append(asset)
                    state.references.extend(refs)


def pull_flows(client: HttpClient, state: PullState, *, objects: ObjectNames, workers: int) -> None:
    listings: list[Mapping[str, Any]] = []
    with state.step(REFS, "workflows"):
        for page in api.iter_flows(client):
            for i, raw in enumerate(_items(client, page, "results", "/automation/v4/flows")):
                if isinstance(raw, Mapping) and raw.get("id") is not None:
                    listings.append(raw)
                else:
                    _bad_item(state, "workflows", i)

    def detail(listing: Mapping[str, Any]) -> Any:
        return api.get_flow(client, str(listing["id"]))

    run = run_bounded(detail, listings, workers=workers)
    for result in run.results:
        flow_id = str(result.item["id"])
        body = result.value
        if isinstance(body, Mapping) and str(body.get("id", flow_id)) == flow_id and body.get("actions") is not None:
            asset, refs = flow_asset({**result.item, **body}, tool=state.tool, objects=objects)
            state.references.extend(refs)
        else:
            asset, _ = flow_asset(result.item, tool=state.tool, objects=objects, detailed=False)
            if isinstance(result.error, HttpError) and not isinstance(result.error, STOP_ERRORS):
                state.http_failure(REFS, f"workflow {flow_id}", result.error)
            elif result.error is not None:
                state.failed(REFS, f"workflow {flow_id}")
            elif result.ran:
                state.failed(
                    REFS,
                    f"workflow {flow_id}",
                    SourceError(
                        code="malformed",
                        message=f"connector '{state.connector}': workflow {flow_id}: details have no actions",
                        capability=REFS,
                        where=f"/automation/v4/flows/{flow_id}",
                    ),
                )
            else:
                state.failed(REFS, f"workflow {flow_id}")
        state.assets.append(asset)
    if run.stopped is not None:
        raise run.stopped


def pull_lists(client: HttpClient, state: PullState, *, objects: ObjectNames, workers: int) -> None:
    found: list[Mapping[str, Any]] = []
    with state.step(REFS, "lists"):
        for page in api.iter_lists(client):
            for i, raw in enumerate(_items(client, page, "lists", "/crm/v3/lists/search")):
                if isinstance(raw, Mapping) and raw.get("listId") is not None:
                    found.append(raw)
                else:
                    _bad_item(state, "lists", i)
    # Manual lists have no filters; every other list's definition is fetched, a batch of ids per call.
    wanted = [str(x["listId"]) for x in found if x.get("processingType") != "MANUAL"]
    batches = [wanted[i : i + api.LIST_IDS_PER_CALL] for i in range(0, len(wanted), api.LIST_IDS_PER_CALL)]

    def fetch(ids: list[str]) -> list[Any]:
        return _items(client, api.get_lists_with_filters(client, ids), "lists", "/crm/v3/lists")

    run = run_bounded(fetch, batches, workers=workers)
    detailed: dict[str, Mapping[str, Any]] = {}
    for result in run.results:
        for raw in result.value or []:
            if isinstance(raw, Mapping) and raw.get("listId") is not None:
                detailed[str(raw["listId"])] = raw
        if isinstance(result.error, HttpError) and not isinstance(result.error, STOP_ERRORS):
            state.http_failure(REFS, f"list filters ({len(result.item)} lists)", result.error)
    for raw in found:
        list_id = str(raw["listId"])
        asset, refs = list_asset(detailed.get(list_id, raw), tool=state.tool, objects=objects)
        state.assets.append(asset)
        state.references.extend(refs)
        if list_id in wanted and list_id not in detailed and not any(r.error for r in run.results):
            state.failed(REFS, f"list {list_id}")
    if run.stopped is not None:
        raise run.stopped
