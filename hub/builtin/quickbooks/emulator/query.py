"""The subset of Intuit's query language that clients use, parsed and run over the store.

SELECT * | COUNT(*) | field, ... FROM Entity
  [WHERE cond AND cond ...]
      cond: field (=|<|>|<=|>=|!=) value | field IN (v, ...) | field LIKE 'a%'
  [ORDER BY|ORDERBY field [ASC|DESC], ...] [STARTPOSITION n] [MAXRESULTS n]
Keywords, entity and field names are case-insensitive; string comparison is too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from . import faults
from .clock import parse_timestamp

MAX_RESULTS = 1000
DEFAULT_RESULTS = 100
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:\\.|''|[^'\\])*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<op><=|>=|!=|<>|[=<>(),*])"
    r"|(?P<word>[A-Za-z_][\w.]*))"
)


@dataclass
class Condition:
    path: str
    op: str
    values: list[Any]


@dataclass
class Query:
    entity: str
    count: bool = False
    fields: list[str] = field(default_factory=list)  # empty means every field
    where: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)  # (path, descending)
    start: int = 1
    max_results: int = DEFAULT_RESULTS


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos, text = [], 0, text.strip().rstrip(";")
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise faults.query_error(
                f"Encountered unexpected input at position {pos}: {text[pos : pos + 20]!r}"
            )
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class Parser:
    def __init__(self, text: str, entities: dict[str, str]) -> None:
        self.tokens = tokenize(text)
        self.pos = 0
        self.entities = entities

    def peek(self) -> str:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else ""

    def take(self) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise faults.query_error("Encountered <EOF>")
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def keyword(self, *words: str) -> bool:
        if self.peek().upper() in words:
            self.pos += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.keyword(word):
            raise faults.query_error(f"Expected {word}, found {self.peek() or '<EOF>'!r}")

    def parse(self) -> Query:
        self.expect("SELECT")
        count, fields = self.projection()
        self.expect("FROM")
        kind, name = self.take()
        entity = self.entities.get(name.lower())
        if kind != "word" or entity is None:
            raise faults.query_error(f"Invalid context declaration : {name}")
        query = Query(entity=entity, count=count, fields=fields)
        if self.keyword("WHERE"):
            query.where.append(self.condition())
            while self.keyword("AND"):
                query.where.append(self.condition())
        if self.keyword("ORDERBY") or self.order_by():
            query.order.append(self.ordering())
            while self.keyword(","):
                query.order.append(self.ordering())
        if self.keyword("STARTPOSITION"):
            query.start = max(1, self.integer())
        if self.keyword("MAXRESULTS"):
            query.max_results = min(MAX_RESULTS, max(0, self.integer()))
        if self.pos != len(self.tokens):
            raise faults.query_error(f"Encountered {self.peek()!r} after the end of the query")
        return query

    def order_by(self) -> bool:
        """ORDER BY written as two words (Intuit documents ORDERBY; clients send both)."""
        if self.keyword("ORDER"):
            self.expect("BY")
            return True
        return False

    def projection(self) -> tuple[bool, list[str]]:
        if self.keyword("COUNT"):
            self.expect("(")
            self.expect("*")
            self.expect(")")
            return True, []
        fields: list[str] = []
        star = False
        while True:
            kind, value = self.take()
            if value == "*":
                star = True
            elif kind == "word":
                fields.append(value)
            else:
                raise faults.query_error(f"Unexpected {value!r} in the select list")
            if not self.keyword(","):
                break
        return False, [] if star else fields

    def integer(self) -> int:
        kind, value = self.take()
        if kind != "num":
            raise faults.query_error(f"Expected a number, found {value!r}")
        return int(Decimal(value))

    def value(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("\\'", "'").replace("''", "'")
        if kind == "num":
            return Decimal(value)
        if value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise faults.query_error(f"Expected a value, found {value!r}")

    def condition(self) -> Condition:
        kind, path = self.take()
        if kind != "word":
            raise faults.query_error(f"Expected a field name, found {path!r}")
        if self.keyword("IN"):
            self.expect("(")
            values = [self.value()]
            while self.keyword(","):
                values.append(self.value())
            self.expect(")")
            return Condition(path, "IN", values)
        if self.keyword("LIKE"):
            return Condition(path, "LIKE", [self.value()])
        kind, op = self.take()
        if op not in ("=", "<", ">", "<=", ">=", "!=", "<>"):
            raise faults.query_error(f"Unsupported operator {op!r}")
        return Condition(path, "!=" if op == "<>" else op, [self.value()])

    def ordering(self) -> tuple[str, bool]:
        kind, path = self.take()
        if kind != "word":
            raise faults.query_error(f"Expected a field to order by, found {path!r}")
        descending = self.keyword("DESC")
        if not descending:
            self.keyword("ASC")
        return path, descending


def parse(text: str, entities: dict[str, str]) -> Query:
    return Parser(text, entities).parse()


def lookup(obj: Any, path: str) -> Any:
    """Follow a dotted path case-insensitively; a reference compares by its value, an email or
    phone record by its address or number (so `PrimaryEmailAddr = 'a@b.c'` works)."""
    current = obj
    for part in path.split("."):
        if not isinstance(current, dict):
            return None
        key = next((k for k in current if k.lower() == part.lower()), None)
        current = current.get(key) if key else None
    if isinstance(current, dict):
        for key in ("value", "Address", "FreeFormNumber", "URI"):
            if key in current:
                return current[key]
    return current


def comparable(field_value: Any, literal: Any, path: str) -> tuple[Any, Any] | None:
    if field_value is None:
        return None
    if isinstance(literal, bool) or isinstance(field_value, bool):
        return bool(field_value), bool(literal)
    if path.lower().endswith(("time", "date")) and isinstance(literal, str):
        try:
            return parse_timestamp(str(field_value)), parse_timestamp(literal)
        except ValueError:
            pass
    # Numbers compare as numbers; so do Ids and references, which Intuit stores as strings
    # but orders numerically. Other text (names, DocNumber) compares as text.
    last = path.split(".")[-1].lower()
    if isinstance(field_value, int | float) or last == "id" or last.endswith("ref"):
        left, right = numeric(field_value), numeric(literal)
        if left is not None and right is not None:
            return left, right
    return str(field_value).casefold(), str(literal).casefold()


NUMBER = re.compile(r"^\s*-?\d+(\.\d+)?\s*$")


def numeric(value: Any) -> Decimal | None:
    """Numbers, and strings that spell one (Ids, amounts); never 'NaN' or 'Infinity' names."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str) and NUMBER.match(value):
        return Decimal(value)
    return None


def matches(obj: dict[str, Any], cond: Condition) -> bool:
    value = lookup(obj, cond.path)
    if cond.op == "LIKE":
        pattern = "".join(".*" if ch == "%" else re.escape(ch) for ch in str(cond.values[0]))
        return value is not None and re.fullmatch(pattern, str(value), re.I | re.S) is not None
    if cond.op == "IN":
        return any(matches(obj, Condition(cond.path, "=", [v])) for v in cond.values)
    pair = comparable(value, cond.values[0], cond.path)
    if pair is None:
        return cond.op == "!="
    left, right = pair
    try:
        return {
            "=": left == right,
            "!=": left != right,
            "<": left < right,
            ">": left > right,
            "<=": left <= right,
            ">=": left >= right,
        }[cond.op]
    except TypeError:
        return False


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    number = numeric(value)
    if number is not None:
        return (1, number)
    return (2, str(value).casefold())


def run(query: Query, objects: list[dict[str, Any]], name_list: bool) -> list[dict[str, Any]]:
    """Filter and order; name lists show active records only unless the query asks about Active."""
    conditions = list(query.where)
    if name_list and not any(c.path.lower() == "active" for c in conditions):
        conditions.append(Condition("Active", "=", [True]))
    rows = [obj for obj in objects if all(matches(obj, c) for c in conditions)]
    rows.sort(key=lambda obj: sort_key(obj.get("Id")))
    for path, descending in reversed(query.order):

        def by_field(obj: dict[str, Any], path: str = path) -> tuple[int, Any]:
            return sort_key(lookup(obj, path))

        rows.sort(key=by_field, reverse=descending)
    return rows


def project(obj: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    if not fields:
        return obj
    wanted = {f.split(".")[0].lower() for f in fields} | {"id"}
    result = {k: v for k, v in obj.items() if k.lower() in wanted}
    result["domain"] = obj.get("domain", "QBO")
    result["sparse"] = True
    return result
