"""The connector interface, the registry of connector types, and the errors connectors raise.

A connector type is a class registered under the ``stackaudit.connectors`` entry-point group (the key is the
``type:`` written in ``stackaudit.yaml``). Each run gets its validated config and a :class:`PullContext`, and
returns a :class:`PullResult`: an inventory fragment plus a :class:`SourceRun` that says what it saw, how many
calls it made and what it could not see. A connector raises :class:`ConnectorError` for a failure that ends the
run; the pipeline turns it (or any unexpected exception, in the one place built to capture them) into a failed
run, keeping every other connector's data.

Error tree::

    StackauditError (stackaudit_inventory.errors)
     └── ConnectorError            the run could not complete; ``code`` says why (auth, quota, malformed...)
          └── ConnectorConfigError a connector's config entry is invalid or a secret's env var is unset
"""

from __future__ import annotations

import abc
import builtins
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from stackaudit_inventory import Capability, InventoryPart, SourceRun
from stackaudit_inventory.catalogue import VendorCatalogue
from stackaudit_inventory.errors import StackauditError

from .files import env_reference, expand_env

__all__ = [
    "ENTRY_POINT_GROUP",
    "Connector",
    "ConnectorConfig",
    "ConnectorConfigError",
    "ConnectorError",
    "ProgressCallback",
    "PullContext",
    "PullResult",
    "available_types",
    "load_connector_class",
    "resolve_secret",
]

ENTRY_POINT_GROUP = "stackaudit.connectors"

ProgressCallback = Callable[[str, int | None, int | None, str], None]
"""``progress(connector_id, done, total, message)``: rich progress bars in the CLI, nothing in tests."""


class ConnectorError(StackauditError):
    """A connector run failed. ``str()`` is one line naming the connector; never contains a secret."""

    def __init__(self, connector: str, message: str, *, code: str = "error", where: str | None = None):
        self.connector = connector
        self.code = code
        self.where = where
        super().__init__(f"connector '{connector}': {message}")


class ConnectorConfigError(ConnectorError):
    def __init__(self, connector: str, message: str, *, where: str | None = None):
        super().__init__(connector, message, code="config", where=where)


class ConnectorConfig(BaseModel):
    """Keys every connector entry has. Subclasses add their own, each with a description (they become docs)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Connector type, e.g. `hubspot`.")
    id: str | None = Field(default=None, description="Tool id in the inventory; defaults to the type.")

    @property
    def connector_id(self) -> str:
        return self.id or self.type


@dataclass
class PullContext:
    """What the pipeline hands a connector run: where relative paths resolve, the clock, env and options."""

    config_dir: Path
    env: Mapping[str, str]
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    progress: ProgressCallback | None = None
    options: dict[str, Any] = field(default_factory=dict)
    # Tools already known from the manifest (id -> name), so API connectors can enrich rather than duplicate.
    declared_tools: Mapping[str, str] = field(default_factory=dict)
    # The vendor catalogue with the manifest's `vendors:` extensions; None means the bundled one (`load_catalogue()`).
    catalogue: VendorCatalogue | None = None

    def report(self, connector: str, done: int | None, total: int | None, message: str) -> None:
        if self.progress is not None:
            self.progress(connector, done, total, message)


class PullResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part: InventoryPart
    run: SourceRun


class Connector(abc.ABC):
    """Base class of connector types. Subclasses set ``type``, ``config_model`` and ``capabilities``."""

    type: ClassVar[str]
    config_model: ClassVar[builtins.type[ConnectorConfig]]
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Read-only scopes the connector needs (documented in the README; nothing more is ever requested).
    scopes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: ConnectorConfig, context: PullContext) -> None:
        self.config = config
        self.context = context

    @property
    def id(self) -> str:
        return self.config.connector_id

    @abc.abstractmethod
    def pull(self) -> PullResult:
        """Read the source and return what it holds. Raise :class:`ConnectorError` only if nothing usable remains;
        otherwise record partial coverage and errors in the run and return what was read."""


def resolve_secret(value: SecretStr | str | None, *, connector: str, key: str, env: Mapping[str, str]) -> str:
    """Turn a config value such as ``${HUBSPOT_TOKEN}`` into the secret, or fail naming connector, key and var."""
    if value is None:
        raise ConnectorConfigError(connector, f"'{key}' is not set", where=key)
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    var = env_reference(raw)
    text, missing = expand_env(raw, env)
    if missing:
        raise ConnectorConfigError(
            connector, f"'{key}': environment variable {missing[0]} is not set", where=key
        )
    if not text:
        name = f"environment variable {var}" if var else f"'{key}'"
        raise ConnectorConfigError(connector, f"{name} is empty", where=key)
    return text


_failed: dict[str, str] = {}


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_types() -> dict[str, str | None]:
    """Registered connector types -> None if loadable, or the reason it is disabled (import error)."""
    out: dict[str, str | None] = {}
    for name in sorted(_entry_points()):
        try:
            load_connector_class(name)
            out[name] = None
        except ConnectorConfigError:
            out[name] = _failed.get(name, "failed to load")
    return out


def load_connector_class(type_name: str) -> type[Connector]:
    """Import the connector registered as ``type_name`` (lazily: only the types a config uses are imported)."""
    eps = _entry_points()
    if type_name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConnectorConfigError(type_name, f"unknown connector type '{type_name}' (known: {known})", where="type")
    try:
        cls = eps[type_name].load()
    except Exception as exc:  # noqa: BLE001 - a broken plugin must not take the CLI down; remember why
        _failed[type_name] = f"{exc.__class__.__name__}: {exc}"
        raise ConnectorConfigError(type_name, f"connector type could not be loaded: {_failed[type_name]}") from None
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorConfigError(type_name, "entry point does not name a Connector subclass")
    return cls
