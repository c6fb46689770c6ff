"""The findings delta between the history's audits: new, returned, resolved, unconfirmed, persisting (with
first-seen dates walked from the store), waived since and waivers expired."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import date, datetime

from rich.console import Console

from stackaudit.commands import audit_snapshot, do_audit
from stackaudit.history.audits import AuditHistory
from stackaudit.history.delta import delta_between, findings_delta, first_seen_index
from stackaudit.history.model import DeltaFinding, FindingsDelta
from stackaudit.history.prose import PLAIN, delta_lines
from stackaudit_inventory import Snapshot

from .conftest import TIMES, History

Key = tuple[str, tuple[str, ...]]


def keys(items: list[DeltaFinding]) -> set[Key]:
    return {(d.rule, tuple(d.subjects)) for d in items}


def delta(history: History, loaded: Callable[[int], Snapshot], old: int, new: int) -> FindingsDelta:
    hist = AuditHistory(history.store, lambda snap: audit_snapshot(history.config, snap))
    snap = loaded(new)
    result = hist.result(hist.entry(snap.id), snap)[0]
    return delta_between(hist, history.snapshots[old].id, snap, result)


PERSISTING_FROM_S0 = {
    ("BS002", ("hubspot->salesforce",)),
    ("BS002", ("typeform->hubspot:demo-request",)),
    ("OF001", ("salesforce:Lead.Old_Campaign__c",)),
    ("RT001", ("amplitude", "mixpanel")),
    ("RT001", ("calendly", "chili-piper")),
    ("RT001", ("drift", "intercom")),
    ("SA001", ("waiver:RT001/drift",)),
    ("UT002", ("gong",)),
}


def test_stored_audits_s1_to_s2(history: History, loaded: Callable[[int], Snapshot]) -> None:
    d = delta(history, loaded, 1, 2)
    assert keys(d.new) == {("SA001", ("waiver:OF001/hubspot:contacts.webinar_2023",))}
    assert keys(d.resolved) == {("BS001", ("drift->salesforce",))}
    assert keys(d.waived_since) == {("HY003", ("calendly",))}
    assert keys(d.waivers_expired) == {("OF001", ("hubspot:contacts.webinar_2023",))}
    assert keys(d.persisting) == PERSISTING_FROM_S0
    assert d.returned == [] and d.unconfirmed == []

    expired = d.waivers_expired[0]
    assert expired.waiver is not None and expired.waiver.expires == date(2026, 11, 12)
    assert expired.status.value == "open"
    waived = d.waived_since[0]
    assert waived.waiver is not None and waived.waiver.owner == "Dana Whitfield"
    # First seen in S0, two weeks before S2.
    assert {(p.first_seen, p.age_days) for p in d.persisting} == {(TIMES[0], 14)}


def test_a_failed_connector_makes_findings_unconfirmed_not_resolved(
    history: History, loaded: Callable[[int], Snapshot]
) -> None:
    d = delta(history, loaded, 2, 3)
    assert d.resolved == [] and d.new == []
    assert keys(d.unconfirmed) == {("OF001", ("salesforce:Lead.Old_Campaign__c",))}
    reason = d.unconfirmed[0].reason or ""
    assert "salesforce" in reason and "session expired" in reason
    lines = [line.text for line in delta_lines(d, PLAIN)]
    assert any(line.startswith("1 finding no longer reported but not re-checked") for line in lines)


def test_a_finding_back_after_the_partial_snapshot_has_returned(
    history: History, loaded: Callable[[int], Snapshot]
) -> None:
    d = delta(history, loaded, 3, 4)
    assert d.new == []
    assert keys(d.returned) == {("OF001", ("salesforce:Lead.Old_Campaign__c",))}
    back = d.returned[0]
    assert (back.first_seen, back.age_days) == (TIMES[0], 28)


def test_whole_quarter(history: History, loaded: Callable[[int], Snapshot]) -> None:
    d = delta(history, loaded, 0, 4)
    assert keys(d.resolved) == {("OF001", ("hubspot:contacts.partner_code",)), ("BS001", ("drift->salesforce",))}
    assert keys(d.new) == {("SA001", ("waiver:OF001/hubspot:contacts.webinar_2023",))}
    assert keys(d.waived_since) == {("HY003", ("calendly",))}
    assert keys(d.waivers_expired) == {("OF001", ("hubspot:contacts.webinar_2023",))}
    assert keys(d.persisting) == PERSISTING_FROM_S0
    oldest = d.persisting[0]
    assert oldest.first_seen == TIMES[0] and oldest.age_days == 28
    new = d.new[0]
    assert new.first_seen == TIMES[2] and new.age_days == 14


def test_first_seen_walks_stored_and_computed_results(history: History) -> None:
    hist = AuditHistory(history.store, lambda snap: audit_snapshot(history.config, snap))
    seen = first_seen_index(hist, TIMES[4])
    origins = [hist.result(e)[1] for e in hist.entries()]
    assert origins == ["stored", "stored", "stored", "computed", "computed"]
    by_rule = {fp: when for fp, when in seen.items()}
    s0 = history.results[history.snapshots[0].id]
    assert all(by_rule[f.fingerprint] == TIMES[0] for f in s0.findings)
    # Walking never writes to the store.
    assert not history.store.result_path(history.snapshots[3].id).exists()


def test_without_history_the_older_audit_is_the_first_evidence(history: History) -> None:
    s1, s2 = (history.results[s.id] for s in history.snapshots[1:3])
    d = findings_delta(s1, s2, old_taken_at=TIMES[1], new_taken_at=TIMES[2])
    assert {p.first_seen for p in d.persisting} == {TIMES[1]}
    assert keys(d.resolved) == {("BS001", ("drift->salesforce",))}


def _console() -> tuple[Console, io.StringIO]:
    buf = io.StringIO()
    return Console(file=buf, width=200, highlight=False), buf


def test_audit_since_prints_the_delta_after_the_findings(history: History) -> None:
    s1, s2 = history.snapshots[1], history.snapshots[2]
    console, buf = _console()
    code = do_audit(
        history.config.path, s2.id, fmt="table", fail_on=None, baseline=None, output=None, console=console, since=s1.id
    )
    assert code == 0
    text = buf.getvalue()
    assert "findings since " + s1.id in text
    assert "1 finding resolved: drift->salesforce fails on" in text
    assert "1 waiver expired, its finding is open again" in text
    assert text.index("open findings") < text.index("findings since")  # the findings table still comes first

    console, buf = _console()
    do_audit(history.config.path, s2.id, fmt="md", fail_on=None, baseline=None, output=None, console=console,
             since=s1.id)  # fmt: skip
    md = buf.getvalue()
    assert md.startswith("## stackaudit findings") and "## Findings since `" + s1.id + "`" in md
    assert "| resolved | medium | BS001 |" in md

    console, buf = _console()
    do_audit(history.config.path, s2.id, fmt="json", fail_on=None, baseline=None, output=None, console=console,
             since=s1.id)  # fmt: skip
    doc = json.loads(buf.getvalue())
    assert doc["findings"]["snapshot_id"] == s2.id
    assert [f["rule"] for f in doc["delta"]["resolved"]] == ["BS001"]
    assert datetime.fromisoformat(doc["delta"]["persisting"][0]["first_seen"]) == TIMES[0]


def test_audit_since_refuses_a_newer_or_the_same_snapshot(history: History) -> None:
    import pytest

    from stackaudit_inventory import InputError

    s1, s2 = history.snapshots[1], history.snapshots[2]
    console, _ = _console()
    for since in (s2.id, history.snapshots[3].id):
        with pytest.raises(InputError):
            do_audit(history.config.path, s2.id, fmt="table", fail_on=None, baseline=None, output=None,
                     console=console, since=since)  # fmt: skip
    assert s1.id  # the older one works (see above)
