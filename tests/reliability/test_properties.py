"""Property-based: arbitrary YAML at the config, manifest and waivers loaders, arbitrary JSON at every connector's
pure response parsers. Only the project's own typed errors (StackauditError subclasses) may come out."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stackaudit.audit.waivers import load_waivers
from stackaudit.config import load_config
from stackaudit_connectors.hubspot import parse as hs
from stackaudit_connectors.manifest.connector import load_manifest
from stackaudit_connectors.marketo import parse as mk
from stackaudit_connectors.marketo import parse_sync as mks
from stackaudit_connectors.salesforce import parse as sf
from stackaudit_connectors.salesforce import parse_assets as sfa
from stackaudit_connectors.segment import parse as sg
from stackaudit_inventory.errors import StackauditError

from .conftest import record

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                    derandomize=True)

KEYS = st.sampled_from(
    ["id", "name", "label", "type", "results", "records", "result", "data", "tools", "connectors", "stack", "store",
     "manifest", "audit", "waivers", "rule", "subject", "reason", "expires", "owner", "fieldType", "options",
     "integrations", "from", "to", "sobjects", "paging", "next", "total", "dataset", "series", "metadata", "fields",
     "capabilities", "cost", "contract", "amount", "dataType", "rest", "success", "access_token", "expires_in"]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["", "2026-11-30", "2026-11-30T09:00:00Z", "${NOPE}", "x" * 300]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, st.text(max_size=6)), inner, max_size=5)
    ),
    max_leaves=20,
)
DICTS = st.dictionaries(KEYS, JSON, max_size=6)
YAML_TEXT = st.one_of(
    JSON.map(lambda v: yaml.safe_dump(v, allow_unicode=True)),
    st.text(max_size=80),
    st.sampled_from(["a: [1, 2", "- - -\n  :", "key: !!python/object:os.system x", "&a [*a]", "\t\tx: y", "\x00"]),
)

FAILURES: dict[str, list[str]] = {}


def _only_typed_errors(area: str, fn: Callable[[], Any]) -> None:
    try:
        fn()
    except StackauditError as exc:
        assert "\n" not in str(exc).strip() or area == "parsers", f"multi-line error: {exc!r}"
    except Exception as exc:
        FAILURES.setdefault(area, []).append(f"{exc.__class__.__name__}: {str(exc)[:80]}")
        raise


def _loader_case(loader: str, text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("stackaudit.yaml" if loader == "config" else f"{loader}.yaml")
        path.write_bytes(text.encode("utf-8", "surrogatepass"))
        if loader == "config":
            _only_typed_errors(loader, lambda: load_config(path))
        elif loader == "manifest":
            _only_typed_errors(loader, lambda: load_manifest(path))
        else:
            _only_typed_errors(loader, lambda: load_waivers(path))


@pytest.mark.parametrize("loader", ["config", "manifest", "waivers"])
def test_loaders_raise_only_typed_errors(loader: str) -> None:
    @SETTINGS
    @given(YAML_TEXT)
    def run(text: str) -> None:
        _loader_case(loader, text)

    try:
        run()
    finally:
        record("Bad input (hypothesis)", loader, "arbitrary YAML (40 examples)",
               "only StackauditError subclasses, one line", "; ".join(FAILURES.get(loader, [])) or "only typed errors",
               loader not in FAILURES)


PARSERS: dict[str, tuple[Callable[..., Any], st.SearchStrategy[tuple[Any, ...]]]] = {
    "hubspot.parse_time": (hs.parse_time, st.tuples(JSON)),
    "hubspot.results_of": (hs.results_of, st.tuples(JSON)),
    # parse_property raises ValueError by contract (its caller, parse_properties, turns that into a problem line).
    "hubspot.parse_properties": (
        lambda r: hs.parse_properties(r, tool="hubspot", object_name="contacts"), st.tuples(st.lists(JSON, max_size=4))
    ),
    "hubspot.parse_schemas": (hs.parse_schemas, st.tuples(JSON)),
    "hubspot.parse_seats": (hs.parse_seats, st.tuples(st.lists(JSON, max_size=4), st.lists(JSON, max_size=4))),
    "hubspot.parse_daily_usage": (hs.parse_daily_usage, st.tuples(JSON)),
    "hubspot.parse_custom_property_limits": (hs.parse_custom_property_limits, st.tuples(JSON)),
    "hubspot.parse_pipelines": (lambda b: hs.parse_pipelines(b, "deals"), st.tuples(JSON)),
    "marketo.parse_time": (mk.parse_time, st.tuples(JSON)),
    "marketo.results_of": (mk.results_of, st.tuples(JSON)),
    "marketo.parse_custom_objects": (lambda b: mk.parse_custom_objects(b, tool="marketo"), st.tuples(JSON)),
    "marketo.custom_object_fields": (lambda r: mk.custom_object_fields(r, tool="marketo", crm=None), st.tuples(DICTS)),
    "marketo.tally_csv": (mk.tally_csv, st.tuples(st.text(max_size=60))),
    "marketo.parse_stats": (mks.parse_stats, st.tuples(JSON, JSON)),
    "salesforce.parse_time": (sf.parse_time, st.tuples(JSON)),
    "salesforce.parse_limit_info": (sf.parse_limit_info, st.tuples(st.one_of(st.none(), st.text(max_size=30)))),
    "salesforce.daily_requests": (sf.daily_requests, st.tuples(DICTS)),
    "salesforce.records_of": (sf.records_of, st.tuples(JSON)),
    "salesforce.parse_global": (sf.parse_global, st.tuples(JSON)),
    "salesforce.parse_custom_objects": (sf.parse_custom_objects, st.tuples(st.lists(DICTS, max_size=3))),
    "salesforce.parse_custom_fields": (lambda r: sf.parse_custom_fields(r, {}), st.tuples(st.lists(DICTS, max_size=3))),
    "salesforce.parse_flows": (lambda r: sfa.parse_flows(r, "salesforce"), st.tuples(st.lists(DICTS, max_size=3))),
    "salesforce.parse_packages": (sfa.parse_packages, st.tuples(st.lists(DICTS, max_size=3))),
    "salesforce.parse_connected_apps": (sfa.parse_connected_apps, st.tuples(st.lists(DICTS, max_size=3))),
    "salesforce.parse_licenses": (sfa.parse_licenses, st.tuples(st.lists(DICTS, max_size=3))),
    "segment.items_of": (lambda d: sg.items_of(d, "sources"), st.tuples(JSON)),
    "segment.parse_time": (sg.parse_time, st.tuples(JSON)),
    "segment.parse_source": (sg.parse_source, st.tuples(JSON)),
    "segment.parse_destination": (sg.parse_destination, st.tuples(JSON)),
    "segment.parse_warehouse": (sg.parse_warehouse, st.tuples(JSON)),
    "segment.parse_delivery": (sg.parse_delivery, st.tuples(JSON)),
    "segment.tracking_plan_asset": (lambda r: sg.tracking_plan_asset(r, tool="segment"), st.tuples(JSON)),
}


def _fuzz(fn: Callable[..., Any], args: st.SearchStrategy[tuple[Any, ...]]) -> None:
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None,
              derandomize=True)
    @given(args)
    def run(values: tuple[Any, ...]) -> None:
        try:
            fn(*values)
        except StackauditError:
            pass

    run()


@pytest.mark.parametrize("connector", ["hubspot", "marketo", "salesforce", "segment"])
def test_response_parsers_raise_only_typed_errors(connector: str) -> None:
    names = [n for n in PARSERS if n.startswith(connector + ".")]
    errors: dict[str, str] = {}
    for name in names:
        fn, args = PARSERS[name]

        try:
            _fuzz(fn, args)
        except Exception as exc:
            errors[name] = f"{exc.__class__.__name__}: {str(exc).splitlines()[0][:80] if str(exc) else ''}"
    record("Bad input (hypothesis)", connector, f"arbitrary JSON at {len(names)} pure parse functions",
           "only StackauditError subclasses", "; ".join(f"{k}: {v}" for k, v in errors.items()) or "only typed errors",
           not errors)
    assert not errors, errors


BREAKERS = {
    "control character (\\x1f)": "stack: a\x1fb\n",
    "recursive alias (&a [*a])": "&a [*a]\n",
    "unclosed flow sequence": "stack: [1, 2\n",
    "python object tag": "stack: !!python/object/apply:os.system ['true']\n",
    "duplicate key": "stack: a\nstack: b\n",
    "tab indentation": "stack:\n\t- a\n",
    "binary junk": "\x00\x01\x02",
    "not a mapping": "- just\n- a list\n",
}


@pytest.mark.parametrize("loader", ["config", "manifest", "waivers"])
@pytest.mark.parametrize("breaker", sorted(BREAKERS))
def test_known_yaml_breakers_give_one_line_file_errors(loader: str, breaker: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{loader}.yaml"
        path.write_text(BREAKERS[breaker], encoding="utf-8")
        load: Callable[[Path], Any] = {"config": load_config, "manifest": load_manifest, "waivers": load_waivers}[
            loader
        ]
        outcome: BaseException | None = None
        try:
            load(path)
        except Exception as exc:
            outcome = exc
    typed = outcome is None or isinstance(outcome, StackauditError)
    one_line = outcome is None or "\n" not in str(outcome)
    names_file = outcome is None or f"{loader}.yaml" in str(outcome)
    message = str(outcome).replace(str(Path(tmp)) + "/", "")  # the temp folder changes from run to run
    observed = "accepted" if outcome is None else f"{outcome.__class__.__name__}: {message[:100]}"
    record("Bad input (loaders)", loader, breaker, "a typed one-line error naming the file (or accepted)",
           observed, typed and one_line and names_file)
    assert typed and one_line and names_file, observed
