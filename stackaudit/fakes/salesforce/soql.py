"""A small, strict SOQL parser: the query shapes a read-only audit sends, and nothing else.

Grammar (keywords and names are case-insensitive, as in SOQL)::

    SELECT item (, item)* FROM Name [WHERE cond (AND cond)*] [ORDER BY path [ASC|DESC] [NULLS FIRST|LAST]]
    [LIMIT n]
    item := COUNT() | (COUNT|MAX|MIN|SUM)(path) [alias] | path
    cond := simple | ( simple (OR simple)* )
    simple := path (=|!=|<>|<|<=|>|>=) value | path [NOT] IN (value, ...) | path LIKE 'text'
    value := 'text' | null | true | false | number | 2026-01-01 | 2026-01-01T00:00:00Z

Anything else (OR outside parentheses, nesting, GROUP BY, sub-queries, functions in WHERE) is
``MALFORMED_QUERY``, so a connector sending an unexpected shape fails loudly in tests. Errors carry the column
(1-based) the real API reports, so the fake can build its ``ERROR at Row:1:Column:N`` messages.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .org import parse_time

__all__ = ["Condition", "Query", "SelectItem", "SoqlError", "parse_soql"]

AGGREGATES = frozenset({"COUNT", "MAX", "MIN", "SUM"})
_KEYWORDS = frozenset({"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC", "DESC",
                       "NULLS", "FIRST", "LAST", "LIMIT", "GROUP", "HAVING", "OFFSET"})

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<string>'(?:[^'\\]|\\.)*')
    | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    | (?P<date>\d{4}-\d{2}-\d{2})
    | (?P<number>-?\d+(?:\.\d+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    | (?P<op>!=|<>|<=|>=|=|<|>)
    | (?P<punct>[(),])
    )""",
    re.VERBOSE,
)


class SoqlError(Exception):
    """A query the real API would refuse: ``code`` is the errorCode, ``column`` where it points (1-based)."""

    def __init__(self, code: str, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.column = column


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    column: int

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass
class SelectItem:
    path: str | None  # None for COUNT()
    func: str | None = None
    alias: str | None = None
    column: int = 1


@dataclass
class Condition:
    path: str
    op: str  # = != < <= > >= IN NOTIN LIKE, or OR (value: the OR-ed conditions)
    value: Any
    column: int = 1


@dataclass
class Query:
    text: str
    items: list[SelectItem]
    entity: str
    entity_column: int
    where: list[Condition] = field(default_factory=list)
    order_by: tuple[str, bool] | None = None  # (path, descending)
    order_column: int = 1
    limit: int | None = None

    @property
    def count_only(self) -> bool:
        return len(self.items) == 1 and self.items[0].func == "COUNT" and self.items[0].path is None

    @property
    def aggregate(self) -> bool:
        return any(i.func for i in self.items)


def _tokens(text: str) -> list[Token]:
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            col = pos + 1 + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{text[col - 1:col + 9].split()[0]}'", col)
        kind = m.lastgroup or "name"
        value = m.group(kind)
        out.append(Token(kind, value, m.start(kind) + 1))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokens(text)
        self.i = 0

    def peek(self) -> Token | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise SoqlError("MALFORMED_QUERY", "unexpected end of query", len(self.text) + 1)
        self.i += 1
        return tok

    def keyword(self, word: str) -> bool:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.upper == word:
            self.i += 1
            return True
        return False

    def expect(self, word: str) -> Token:
        tok = self.take()
        if tok.upper != word:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'", tok.column)
        return tok

    def name(self) -> Token:
        tok = self.take()
        if tok.kind != "name" or tok.upper in _KEYWORDS:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'", tok.column)
        return tok

    def item(self) -> SelectItem:
        tok = self.name()
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            func = tok.upper
            if func not in AGGREGATES:
                raise SoqlError("MALFORMED_QUERY", f"unknown function: {tok.text}", tok.column)
            self.take()
            path: str | None = None
            col = tok.column
            if self.peek() is not None and self.peek().text != ")":  # type: ignore[union-attr]
                arg = self.name()
                path, col = arg.text, arg.column
            self.expect(")")
            if path is None and func != "COUNT":
                raise SoqlError("MALFORMED_QUERY", f"{func}() needs a field", tok.column)
            alias = None
            nxt = self.peek()
            if nxt is not None and nxt.kind == "name" and nxt.upper not in _KEYWORDS:
                alias = self.take().text
            return SelectItem(path, func, alias, col)
        return SelectItem(tok.text, None, None, tok.column)

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "string":
            return tok.text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
        if tok.kind == "number":
            return float(tok.text) if "." in tok.text else int(tok.text)
        if tok.kind == "datetime":
            return parse_time(tok.text)
        if tok.kind == "date":
            return datetime.fromisoformat(tok.text + "T00:00:00+00:00")
        if tok.kind == "name" and tok.upper in ("NULL", "TRUE", "FALSE"):
            return {"NULL": None, "TRUE": True, "FALSE": False}[tok.upper]
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'", tok.column)

    def condition(self) -> Condition:
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.take()
            parts = [self.simple()]
            while self.keyword("OR"):
                parts.append(self.simple())
            self.expect(")")
            return Condition("", "OR", parts, tok.column)
        return self.simple()

    def simple(self) -> Condition:
        tok = self.peek()
        if tok is not None and tok.text == "(":
            raise SoqlError("MALFORMED_QUERY", "nested conditions are not supported by the fake", tok.column)
        path = self.name()
        if self.keyword("NOT"):
            self.expect("IN")
            return Condition(path.text, "NOTIN", self.values(), path.column)
        if self.keyword("IN"):
            return Condition(path.text, "IN", self.values(), path.column)
        if self.keyword("LIKE"):
            return Condition(path.text, "LIKE", self.value(), path.column)
        op = self.take()
        if op.kind != "op":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{op.text}'", op.column)
        return Condition(path.text, "!=" if op.text == "<>" else op.text, self.value(), path.column)

    def values(self) -> list[Any]:
        self.expect("(")
        out = [self.value()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            out.append(self.value())
        self.expect(")")
        return out

    def parse(self) -> Query:
        self.expect("SELECT")
        items = [self.item()]
        while self.peek() is not None and self.peek().text == ",":  # type: ignore[union-attr]
            self.take()
            items.append(self.item())
        self.expect("FROM")
        entity = self.take()  # object names may be reserved words (Order, Group)
        if entity.kind != "name":
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{entity.text}'", entity.column)
        query = Query(self.text, items, entity.text, entity.column)
        if self.keyword("WHERE"):
            query.where.append(self.condition())
            while self.keyword("AND"):
                query.where.append(self.condition())
            tok = self.peek()
            if tok is not None and tok.upper == "OR":
                raise SoqlError("MALFORMED_QUERY", "OR is not supported by the fake", tok.column)
        if self.keyword("ORDER"):
            self.expect("BY")
            path = self.name()
            desc = False
            if self.keyword("DESC"):
                desc = True
            else:
                self.keyword("ASC")
            if self.keyword("NULLS"):
                if not (self.keyword("FIRST") or self.keyword("LAST")):
                    raise SoqlError("MALFORMED_QUERY", "NULLS FIRST or NULLS LAST expected", path.column)
            query.order_by = (path.text, desc)
            query.order_column = path.column
        if self.keyword("LIMIT"):
            tok = self.take()
            if tok.kind != "number" or "." in tok.text:
                raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'", tok.column)
            query.limit = int(tok.text)
        tok = self.peek()
        if tok is not None:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{tok.text}'", tok.column)
        if query.aggregate and any(i.func is None for i in items):
            bad = next(i for i in items if i.func is None)
            raise SoqlError(
                "MALFORMED_QUERY", f"Field must be grouped or aggregated: {bad.path}", bad.column
            )
        if any(i.func == "COUNT" and i.path is None for i in items) and len(items) > 1:
            raise SoqlError("MALFORMED_QUERY", "COUNT() must be the only element in the SELECT list", 8)
        return query


def parse_soql(text: str) -> Query:
    """Parse ``text``; raises :class:`SoqlError` (``MALFORMED_QUERY``) for anything outside the grammar."""
    return _Parser(text).parse()
