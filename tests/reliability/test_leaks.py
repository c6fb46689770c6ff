"""No secret and no customer record leaves the tool: plant both, run every command, scan every output.

Secrets: each connector's token / client secret (planted in the environment). Customer data: e-mail addresses and
names planted in every record the fakes serve (HubSpot record properties, Salesforce and Marketo records). Then
``pull --debug`` (a clean pull, and one where every vendor fails), ``audit`` in json/csv/md, ``report`` (HTML),
``diagram`` as dot and mermaid run through the CLI; the snapshot file, every output file, stdout/stderr, every log
record at DEBUG (with tracebacks rendered) and the recorded error messages are scanned.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from stackaudit.cli import app

from .conftest import SECRETS, body_json, fast_connectors, intercept, record, serve_stack, write_config

PII = ("jane.planted@customer-example.com", "Zebediah Plantedsworth", "Plantedsworth", "Zebediah")
EMAIL_KEYS = {"email", "personalemail", "workemail"}
FIRST_KEYS = {"firstname", "first_name"}
LAST_KEYS = {"lastname", "last_name"}
NAME_KEYS = {"name", "fullname", "full_name"}
# Salesforce records whose Name is a customer's (other records' names are metadata: apps, packages, flows).
CUSTOMER_OBJECTS = {"Contact", "Lead", "Account", "Opportunity", "Case"}


def _sf_type(record: dict[str, Any]) -> str | None:
    attributes = record.get("attributes")
    return attributes.get("type") if isinstance(attributes, dict) else None


def _plant(value: Any, in_record: bool = False) -> Any:
    """Replace personal values in records: a dict is a record when it has ``id`` or ``attributes`` (Salesforce)
    or sits under a HubSpot record's ``properties``."""
    if isinstance(value, list):
        return [_plant(v, in_record) for v in value]
    if not isinstance(value, dict):
        return value
    is_record = in_record or "attributes" in value or ("id" in value and "properties" in value)
    out: dict[str, Any] = {}
    for key, v in value.items():
        k = key.lower()
        if is_record and isinstance(v, str) and k in EMAIL_KEYS:
            out[key] = PII[0]
        elif is_record and isinstance(v, str) and k in FIRST_KEYS:
            out[key] = PII[3]
        elif is_record and isinstance(v, str) and k in LAST_KEYS:
            out[key] = PII[2]
        elif is_record and _sf_type(value) in CUSTOMER_OBJECTS and isinstance(v, str) and k in NAME_KEYS:
            out[key] = PII[1]
        else:
            out[key] = _plant(v, in_record=key == "properties" and "id" in value)
    return out


def plant_customer_data(fake: Any, served: list[int]) -> None:
    def rewrite(n: int, result: tuple[Any, ...], path: str) -> tuple[Any, ...] | None:
        data = body_json(result[1])
        if data is None:
            text = result[1].decode("utf-8", "replace")
            if result[0] == 200 and "," in text and "\n" in text and "email" in text.splitlines()[0].lower():
                # Marketo's bulk extract: CSV with an email column.
                lines = text.splitlines()
                header = lines[0].split(",")
                col = [h.lower() for h in header].index("email")
                rows = [line.split(",") for line in lines[1:]]
                for row in rows:
                    if len(row) > col and row[col]:
                        row[col] = PII[0]
                new = "\n".join([lines[0], *(",".join(r) for r in rows)]) + "\n"
                served.append(new.count(PII[0]))
                return result[0], new.encode(), *result[2:]
            return None
        planted = json.dumps(_plant(data))
        served.append(sum(planted.count(p) for p in PII[:2]) + planted.count(PII[0]))
        return result[0], planted.encode(), *result[2:]

    intercept(fake, rewrite)


def _scan(label: str, text: str, found: dict[str, list[str]]) -> None:
    for name, secret in SECRETS.items():
        if secret in text:
            found.setdefault(label, []).append(name)
    for item in PII:
        if item in text:
            found.setdefault(label, []).append(f"PII {item}")


def _run_everything(tmp_path: Path, urls: dict[str, str], caplog: pytest.LogCaptureFixture) -> dict[str, str]:
    """Run pull, audit (json/csv/md), report and diagram (dot/mermaid) through the CLI; return every output."""
    config = tmp_path / "stackaudit.yaml"
    write_config(tmp_path, urls)
    runner = CliRunner()
    outputs: dict[str, str] = {}

    def cli(label: str, *args: str) -> None:
        result = runner.invoke(app, [*args, "--config", str(config)], catch_exceptions=True)
        outputs[f"{label} (stdout+stderr)"] = result.output + (result.stderr if result.stderr_bytes else "")
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            outputs[f"{label} (exception)"] = f"{result.exception!r} {result.exception}"

    cli("pull --debug", "pull", "--debug")
    for fmt in ("json", "csv", "md"):
        cli(f"audit --format {fmt}", "audit", "--format", fmt, "--debug", "--output", str(tmp_path / f"findings.{fmt}"))
    cli("report", "report", "--output", str(tmp_path / "report.html"), "--debug")
    for fmt in ("dot", "mermaid"):
        cli(f"diagram {fmt}", "diagram", "--format", fmt, "--output", str(tmp_path / f"diagram.{fmt}"), "--debug")
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file() and path.name != "stackaudit.yaml":
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            outputs[str(path.relative_to(tmp_path))] = data.decode("utf-8", errors="replace")
    logs = []
    for rec in caplog.records:
        logs.append(rec.getMessage())
        if rec.exc_info:
            logs.append(logging.Formatter().formatException(rec.exc_info))
    outputs["log records (DEBUG, with tracebacks)"] = "\n".join(logs)
    return outputs


@pytest.mark.parametrize("scenario", ["clean pull", "every vendor fails (401 / 500 / bad JSON / unreachable)"])
def test_no_secret_or_customer_record_in_any_output(
    scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fast_connectors(monkeypatch, {})
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    served: list[int] = []
    with serve_stack() as stack:
        urls = dict(stack.urls)
        for vendor in ("hubspot", "salesforce", "marketo"):
            plant_customer_data(stack.fake(vendor), served)
        if scenario != "clean pull":
            stack.hubspot.faults.fail(times=10_000, status=401)
            stack.salesforce.faults.fail(times=10_000, status=500)

            def bad_json(n: int, result: tuple[Any, ...], path: str) -> tuple[Any, ...]:
                return 200, b'{"success": true, "result": [' + SECRETS["MARKETO_CLIENT_SECRET"][:3].encode(), result[2]

            intercept(stack.marketo, bad_json)
            urls["segment"] = "http://127.0.0.1:9"  # discard port: nothing listens
        outputs = _run_everything(tmp_path, urls, caplog)

    found: dict[str, list[str]] = {}
    for label, text in outputs.items():
        _scan(label, text, found)
    snapshot_files = [k for k in outputs if k.startswith(".stackaudit/snapshots")]
    checked = ", ".join(sorted({re.sub(r"\d{8}T\d{6}Z-[0-9a-f]+", "<id>", k.split(" (")[0].rsplit("/", 1)[-1])
                                for k in outputs}))
    proof = "planted values served" if scenario == "clean pull" else "vendors failing"
    observed = f"{len(outputs)} outputs scanned ({checked}); {proof}; " + (
        "leaks: " + "; ".join(f"{k}: {v}" for k, v in found.items()) if found else "no leak"
    )
    passed = not found and bool(snapshot_files) and (scenario != "clean pull" or sum(served) > 0)
    record("Secrets and customer data", "all", f"planted tokens, client secrets, e-mails and names; {scenario}",
           "no planted value in snapshot, findings JSON/CSV/MD, HTML, DOT, Mermaid, --debug output, logs, errors",
           observed, passed)
    assert snapshot_files, sorted(outputs)
    if scenario == "clean pull":
        assert sum(served) > 0, "no customer data was planted: the test proves nothing"
    assert not found, found
