"""The fake's endpoints: each turns (path match, query, body) into (status, JSON payload) from the portal."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from .portal import FakeObject, FakePortal, iso
from .shapes import OBJECT_TYPE_IDS, flow_listing, list_search_item

__all__ = ["Routes"]

Reply = tuple[int, Any]
Handler = Callable[[re.Match[str], dict[str, list[str]], Any], Reply]

SEARCH_CAP = 10_000
_SORTABLE = ("lastmodifieddate", "hs_lastmodifieddate", "createdate", "hs_createdate")


def _encode(offset: int) -> str:
    return base64.b64encode(str(offset).encode()).decode()


def _decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor.encode()).decode())
    except ValueError:
        return -1


def _one(query: dict[str, list[str]], key: str, default: str | None = None) -> str | None:
    values = query.get(key)
    return values[0] if values else default


def _error(status: int, category: str, message: str) -> Reply:
    return status, {"status": "error", "message": message, "correlationId": "00000000-fake", "category": category}


_CONSTANT_VALUES = {"number": "1", "bool": "true", "enumeration": "a", "phone_number": "+10000000000"}


def _value(ptype: str, updated: str) -> str:
    """A synthetic value of the property's type (dates are the record's update time: a sync time must be real)."""
    if ptype == "datetime":
        return updated
    if ptype == "date":
        return updated[:10]
    return _CONSTANT_VALUES.get(ptype, "v")


def _set_bits(mask: int) -> list[int]:
    text = bin(mask)[2:][::-1]
    return [i for i, c in enumerate(text) if c == "1"]


class Routes:
    def __init__(
        self,
        portal: FakePortal,
        *,
        max_page_size: int | None,
        empty_as_null: bool,
        max_filter_groups: int,
        base_url: Callable[[], str],
        usage: Callable[[], int],
    ) -> None:
        self.portal = portal
        self.max_page_size = max_page_size
        self.empty_as_null = empty_as_null
        self.max_filter_groups = max_filter_groups
        self._base_url = base_url
        self._usage = usage
        table: list[tuple[str, str, Handler]] = [
            ("GET", r"/account-info/v3/details", self.details),
            ("GET", r"/account-info/v3/api-usage/daily/private-apps", self.usage),
            ("GET", r"/crm/v3/limits/custom-properties", self.limits),
            ("GET", r"/crm-object-schemas/v3/schemas", self.schemas),
            ("GET", r"/crm/v3/properties/(?P<obj>[^/]+)/groups", self.groups),
            ("GET", r"/crm/v3/properties/(?P<obj>[^/]+)", self.properties),
            ("GET", r"/crm/v3/pipelines/(?P<obj>[^/]+)", self.pipelines),
            ("GET", r"/crm/v3/owners/?", self.owners),
            ("GET", r"/marketing/v3/forms/?", self.forms),
            ("GET", r"/automation/v4/flows", self.flows),
            ("GET", r"/automation/v4/flows/(?P<id>[^/]+)", self.flow),
            ("POST", r"/crm/v3/lists/search", self.lists_search),
            ("GET", r"/crm/v3/lists/?", self.lists_by_id),
            ("GET", r"/crm/v3/lists/(?P<id>[^/]+)", self.list_one),
            ("GET", r"/crm/v3/objects/(?P<obj>[^/]+)", self.objects),
            ("POST", r"/crm/v3/objects/(?P<obj>[^/]+)/search", self.search),
        ]
        self._table = [(m, re.compile(p + "$"), h) for m, p, h in table]

    def dispatch(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> Reply:
        allowed = False
        for route_method, pattern, handler in self._table:
            match = pattern.match(path)
            if match:
                if route_method == method:
                    return handler(match, query, body)
                allowed = True
        if allowed:
            return _error(405, "METHOD_NOT_ALLOWED", f"{method} is not supported on {path}")
        return _error(404, "OBJECT_NOT_FOUND", f"no route for {path}")

    # ---------------------------------------------------------------------------------------------- helpers

    def _limit(self, query: dict[str, list[str]], default: int, maximum: int) -> int:
        try:
            limit = int(_one(query, "limit") or default)
        except ValueError:
            limit = default
        limit = max(1, min(limit, maximum))
        return min(limit, self.max_page_size) if self.max_page_size else limit

    def _page(self, items: Sequence[Any], query: dict[str, list[str]], path: str, default: int, maximum: int) -> Reply:
        start = _decode(_one(query, "after"))
        if start < 0:
            return _error(400, "VALIDATION_ERROR", "invalid after cursor")
        limit = self._limit(query, default, maximum)
        payload: dict[str, Any] = {"results": list(items[start : start + limit])}
        if start + limit < len(items):
            cursor = _encode(start + limit)
            payload["paging"] = {"next": {"after": cursor, "link": f"{self._base_url()}{path}?after={cursor}"}}
        return 200, payload

    def _object(self, key: str) -> FakeObject | None:
        return self.portal.find_object(key)

    def _unknown_object(self, key: str) -> Reply:
        return _error(400, "VALIDATION_ERROR", f"Unable to infer object type from: {key}")

    # ---------------------------------------------------------------------------------------------- account

    def details(self, _m: re.Match[str], _q: dict[str, list[str]], _b: Any) -> Reply:
        return 200, dict(self.portal.details)

    def usage(self, _m: re.Match[str], _q: dict[str, list[str]], _b: Any) -> Reply:
        clock = self.portal.clock
        resets = (clock + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return 200, {
            "results": [
                {
                    "name": "private-apps-api-calls-daily",
                    "usageLimit": self.portal.daily_limit,
                    "currentUsage": self._usage(),
                    "collectedAt": clock.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "fetchStatus": "SUCCESS",
                    "resetsAt": resets.strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ]
        }

    def limits(self, _m: re.Match[str], _q: dict[str, list[str]], _b: Any) -> Reply:
        rows = []
        for obj in self.portal.objects.values():
            usage = sum(1 for p in obj.properties if isinstance(p, dict) and "hubspotDefined" not in p)
            limit = self.portal.custom_property_limit
            label = (obj.schema or {}).get("labels", {}) or {"singular": obj.name[:-1].title(), "plural": obj.name}
            rows.append(
                {
                    "objectTypeId": obj.object_type_id,
                    "singularLabel": label.get("singular", obj.name),
                    "pluralLabel": label.get("plural", obj.name),
                    "usage": usage,
                    "limit": limit,
                    "percentage": round(100 * usage / limit, 1),
                }
            )
        total = sum(r["usage"] for r in rows)
        overall = self.portal.custom_property_limit
        return 200, {
            "byObjectType": rows,
            "overallLimit": overall,
            "overallUsage": total,
            "overallPercentage": round(100 * total / overall, 1),
        }

    # ----------------------------------------------------------------------------------- schema and fields

    def schemas(self, _m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        with_props = _one(query, "includePropertyDefinitions", "true") != "false"
        results = []
        for obj in self.portal.objects.values():
            if obj.schema is None:
                continue
            body = dict(obj.schema)
            body.setdefault("associations", [])
            body.setdefault("requiredProperties", [])
            body["properties"] = list(obj.properties) if with_props else []
            results.append(body)
        return 200, {"results": results}

    def properties(self, m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        obj = self._object(m["obj"])
        if obj is None:
            return (200, {"results": []}) if m["obj"] in OBJECT_TYPE_IDS else self._unknown_object(m["obj"])
        archived = _one(query, "archived", "false") == "true"
        results = [p for p in obj.properties if not isinstance(p, dict) or bool(p.get("archived")) == archived]
        return 200, {"results": results}

    def groups(self, m: re.Match[str], _q: dict[str, list[str]], _b: Any) -> Reply:
        obj = self._object(m["obj"])
        if obj is None:
            return (200, {"results": []}) if m["obj"] in OBJECT_TYPE_IDS else self._unknown_object(m["obj"])
        return 200, {"results": obj.groups}

    def pipelines(self, m: re.Match[str], _q: dict[str, list[str]], _b: Any) -> Reply:
        return 200, {"results": self.portal.pipelines.get(m["obj"], [])}

    # ------------------------------------------------------------------------------------ owners and assets

    def owners(self, m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        archived = _one(query, "archived", "false") == "true"
        items = [o for o in self.portal.owners if bool(o.get("archived")) == archived]
        return self._page(items, query, m.string, 100, 500)

    def forms(self, m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        archived = _one(query, "archived", "false") == "true"
        items = [f for f in self.portal.forms if bool(f.get("archived")) == archived]
        return self._page(items, query, m.string, 20, 100)

    def flows(self, m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        return self._page([flow_listing(f) for f in self.portal.flows], query, m.string, 100, 100)

    def flow(self, m: re.Match[str], _q: dict[str, list[str]], _b: Any) -> Reply:
        for flow in self.portal.flows:
            if str(flow.get("id")) == m["id"]:
                return 200, flow
        return _error(404, "OBJECT_NOT_FOUND", f"flow {m['id']} not found")

    def lists_search(self, _m: re.Match[str], _q: dict[str, list[str]], body: Any) -> Reply:
        if not isinstance(body, dict) or "offset" not in body:
            return _error(400, "VALIDATION_ERROR", "offset is required")
        offset = int(body.get("offset") or 0)
        count = max(1, min(int(body.get("count") or 20), 500, self.max_page_size or 500))
        items = self.portal.lists
        if body.get("processingTypes"):
            items = [x for x in items if x.get("processingType") in body["processingTypes"]]
        page = items[offset : offset + count]
        return 200, {
            "offset": offset + len(page),
            "hasMore": offset + len(page) < len(items),
            "total": len(items),
            "lists": [list_search_item(x) for x in page],
        }

    def _list_view(self, lst: dict[str, Any], include_filters: bool) -> dict[str, Any]:
        return dict(lst) if include_filters else {k: v for k, v in lst.items() if k != "filterBranch"}

    def list_one(self, m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        include = _one(query, "includeFilters", "false") == "true"
        for lst in self.portal.lists:
            if str(lst.get("listId")) == m["id"]:
                return 200, {"list": self._list_view(lst, include)}
        return _error(404, "OBJECT_NOT_FOUND", f"list {m['id']} not found")

    def lists_by_id(self, _m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        include = _one(query, "includeFilters", "false") == "true"
        wanted = set(query.get("listIds", []))
        return 200, {"lists": [self._list_view(x, include) for x in self.portal.lists if x.get("listId") in wanted]}

    # ---------------------------------------------------------------------------------------------- records

    def _records(self, obj: FakeObject, indices: Sequence[int], names: Sequence[str]) -> list[dict[str, Any]]:
        """Records ``indices`` (ascending or not) with the requested properties; values synthesised by type."""
        if not indices:
            return []
        rs, types = obj.records, obj.property_types
        lo, hi = min(indices), max(indices) + 1
        window = (1 << (hi - lo)) - 1
        # One shift per property per page, not per record: bitsets can be 50,000 bits wide.
        wanted = {n: (rs.filled(n) >> lo) & window for n in dict.fromkeys(names) if n in types}
        out = []
        last_modified = obj.last_modified_property
        for i in indices:
            created, updated = iso(rs.created_ms(i)), iso(rs.updated_ms(i))
            props: dict[str, Any] = {"createdate": created, "hs_object_id": str(i + 1), last_modified: updated}
            for name, bits in wanted.items():
                if bits >> (i - lo) & 1:
                    props[name] = _value(types[name], updated)
                elif self.empty_as_null:
                    props[name] = None
            out.append(
                {"id": str(i + 1), "properties": props, "createdAt": created, "updatedAt": updated, "archived": False}
            )
        return out

    def objects(self, m: re.Match[str], query: dict[str, list[str]], _b: Any) -> Reply:
        obj = self._object(m["obj"])
        if obj is None:
            return (200, {"results": []}) if m["obj"] in OBJECT_TYPE_IDS else self._unknown_object(m["obj"])
        names = [n for v in query.get("properties", []) for n in v.split(",") if n]
        try:
            start = int(_one(query, "after") or 0)
        except ValueError:
            return _error(400, "VALIDATION_ERROR", "invalid after cursor")
        limit = self._limit(query, 10, 100)
        end = min(obj.records.count, start + limit)
        payload: dict[str, Any] = {"results": self._records(obj, range(start, end), names)}
        if end < obj.records.count:
            link = f"{self._base_url()}{m.string}?after={end}"
            payload["paging"] = {"next": {"after": str(end), "link": link}}
        return 200, payload

    def search(self, m: re.Match[str], _q: dict[str, list[str]], body: Any) -> Reply:
        obj = self._object(m["obj"])
        if obj is None:
            return self._unknown_object(m["obj"])
        if not isinstance(body, dict):
            return _error(400, "VALIDATION_ERROR", "a JSON body is required")
        groups = body.get("filterGroups") or []
        if len(groups) > self.max_filter_groups:
            return _error(400, "VALIDATION_ERROR", f"at most {self.max_filter_groups} filterGroups are allowed")
        if sum(len(g.get("filters", [])) for g in groups) > 25 or any(len(g.get("filters", [])) > 10 for g in groups):
            return _error(400, "VALIDATION_ERROR", "too many filters")
        limit = int(body.get("limit") or 10)
        if limit > 200:
            return _error(400, "VALIDATION_ERROR", "limit must be at most 200")
        offset = int(body.get("after") or 0)
        if offset >= SEARCH_CAP or offset + limit > SEARCH_CAP:
            return _error(400, "VALIDATION_ERROR", f"paging beyond {SEARCH_CAP} results is not supported")
        rs, types = obj.records, obj.property_types
        mask = 0 if groups else rs.all_mask
        for group in groups:
            group_mask = rs.all_mask
            for flt in group.get("filters", []):
                name, operator = flt.get("propertyName"), flt.get("operator")
                if name not in types and name not in _SORTABLE:
                    return _error(400, "VALIDATION_ERROR", f"Property {name!r} does not exist")
                bits = rs.filled(name) if name in types else rs.all_mask
                if operator == "HAS_PROPERTY":
                    group_mask &= bits
                elif operator == "NOT_HAS_PROPERTY":
                    group_mask &= rs.all_mask & ~bits
                else:
                    return _error(400, "VALIDATION_ERROR", f"the fake supports HAS_PROPERTY only, not {operator}")
            mask |= group_mask
        total = mask.bit_count()
        descending = False
        for sort in body.get("sorts") or []:
            name = sort if isinstance(sort, str) else sort.get("propertyName", "")
            direction = "DESCENDING" if isinstance(sort, str) and sort.startswith("-") else "ASCENDING"
            if isinstance(sort, dict):
                direction = str(sort.get("direction", "ASCENDING"))
            if name.lstrip("-") in _SORTABLE or types.get(name) == "datetime":
                descending = direction == "DESCENDING"
        page = self._search_page(mask, offset, limit, descending)
        names = list(body.get("properties") or [])
        payload: dict[str, Any] = {"total": total, "results": self._records(obj, page, names)}
        nxt = offset + len(page)
        if nxt < min(total, SEARCH_CAP):
            payload["paging"] = {"next": {"after": str(nxt), "link": f"?after={nxt}"}}
        return 200, payload

    @staticmethod
    def _search_page(mask: int, offset: int, limit: int, descending: bool) -> list[int]:
        if offset == 0 and limit == 1 and mask:
            # The common count query: the newest or oldest match without materialising every index.
            return [mask.bit_length() - 1] if descending else [(mask & -mask).bit_length() - 1]
        indices = _set_bits(mask)
        if descending:
            indices.reverse()
        return indices[offset : offset + limit]
