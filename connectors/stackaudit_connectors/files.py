"""Reading the files people write (config, manifest, waivers, baselines) with errors that name file, line and key.

A YAML file is parsed once into plain Python data plus a map from key path to line number, then validated
with a pydantic model. Any problem comes out as one :class:`FileError` line such as::

    stack.yaml:14: tools[3].cost.amount: Input should be a valid number

Why PyYAML's composer and not a round-trip loader: we need only the line of every key and item, which the
composed node tree already carries, and PyYAML is the loader every user already has.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from stackaudit_inventory.errors import InputError

__all__ = ["FileError", "LineMap", "format_path", "load_yaml", "load_yaml_model", "validate_data"]

M = TypeVar("M", bound=BaseModel)
PathKey = tuple[str | int, ...]
LineMap = dict[PathKey, int]


class FileError(InputError):
    """A user file is unreadable or invalid. The message is one line: ``file:line: key: problem``."""

    def __init__(self, file: str | Path, message: str, line: int | None = None, key: str | None = None):
        self.file = str(file)
        self.line = line
        self.key = key
        self.problem = message
        where = f"{self.file}:{line}" if line else self.file
        text = f"{where}: {key}: {message}" if key else f"{where}: {message}"
        super().__init__(text)


def format_path(path: PathKey) -> str:
    """``("tools", 3, "cost")`` -> ``tools[3].cost``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


class _Loader(yaml.SafeLoader):
    """SafeLoader that keeps every timestamp as text: dates are validated by pydantic, not guessed by YAML."""


# Keep ISO dates as strings (pydantic parses them); YAML 1.1 would otherwise turn "2026-01-01" into a date and
# "no"/"yes"/"on" into booleans, which we keep as YAML does since users write `enabled: yes`.
_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _walk(node: yaml.Node, path: PathKey, lines: LineMap, loader: _Loader) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise FileError(
                    loader.name, f"unsupported key {key!r}", key_node.start_mark.line + 1, format_path(path)
                )
            key = str(key)
            if key in result:
                raise FileError(
                    loader.name, "duplicate key", key_node.start_mark.line + 1, format_path((*path, key))
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            result[key] = _walk(value_node, (*path, key), lines, loader)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, (*path, i), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(path: str | Path, text: str | None = None) -> tuple[Any, LineMap]:
    """Parse a YAML file into plain data and a key-path -> line map. Raises :class:`FileError`."""
    path = Path(path)
    if text is None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise FileError(path, "file not found") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise FileError(path, f"cannot read file: {exc.__class__.__name__}: {exc}") from None
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a control character: the reader refuses the text before parsing
        at = text.count("\n", 0, exc.position) + 1
        raise FileError(path, f"invalid YAML: character #x{exc.character:04x} is not allowed", at) from None
    loader.name = str(path)
    lines: LineMap = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return None, lines
        data = _walk(node, (), lines, loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise FileError(path, f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise FileError(path, f"invalid YAML: {' '.join(str(exc).split())}") from None
    except RecursionError:  # an alias inside its own anchor (`&a [*a]`), or absurd nesting
        raise FileError(path, "invalid YAML: recursive alias or nesting too deep") from None
    finally:
        loader.dispose()
    return data, lines


def _line_for(lines: LineMap, loc: PathKey) -> int | None:
    """The line of the deepest known prefix of ``loc`` (a missing key points at its parent)."""
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None


def _clean_loc(loc: tuple[Any, ...]) -> PathKey:
    # pydantic adds union-branch and tagged-union tags into loc (e.g. 'function-after[...]'); drop them.
    return tuple(p for p in loc if isinstance(p, int) or not re.search(r"[\[\]()]", str(p)))


def validate_data(model: type[M], data: Any, file: str | Path, lines: LineMap, base: PathKey = ()) -> M:
    """Validate plain data with ``model``; the first error becomes a one-line :class:`FileError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = (*base, *_clean_loc(tuple(err["loc"])))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        elif err["type"] == "missing":
            msg = "required key is missing"
        more = len(exc.errors()) - 1
        if more:
            msg += f" (and {more} more problem{'s' if more > 1 else ''})"
        raise FileError(file, msg, _line_for(lines, loc), format_path(loc)) from None


def load_yaml_model(path: str | Path, model: type[M], *, empty_ok: bool = False) -> M:
    """Load and validate a YAML file in one step."""
    data, lines = load_yaml(path)
    if data is None:
        if empty_ok:
            data = {}
        else:
            raise FileError(path, "file is empty")
    if not isinstance(data, Mapping):
        raise FileError(path, f"expected a mapping at the top level, got {type(data).__name__}", 1)
    return validate_data(model, data, path, lines)


_ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def env_reference(value: str) -> str | None:
    """The variable name if ``value`` is exactly ``${VAR}``, else None."""
    m = _ENV_RE.fullmatch(value.strip())
    return m.group(1) if m else None


def expand_env(value: str, env: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """Replace every ``${VAR}`` from ``env`` (default ``os.environ``); returns the text and the unset names."""
    env = os.environ if env is None else env
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in env:
            missing.append(name)
            return ""
        return env[name]

    return _ENV_RE.sub(sub, value), missing
