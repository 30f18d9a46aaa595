"""Rent Manager list-query parameters (filters, embeds, fields, paging) as pure functions.

Why pure: the rules (reference §2) are the part of the API a client leans on hardest, and they
are easiest to pin down without a server. The app only supplies the field types of a resource.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode

OPERATORS = frozenset("eq ne gt ge lt le in ni bt ct sw ew hv gtn gen ltn len".split())
TEXT_OPERATORS = frozenset({"ct", "sw", "ew"})
LIST_OPERATORS = frozenset({"in", "ni", "bt"})
# "greater than or null" and friends: the plain comparison, or true when the field has no value.
OR_NULL = {"gtn": "gt", "gen": "ge", "ltn": "lt", "len": "le"}
MAX_PAGE_SIZE = 1000
_COMPARE = {"gt": operator.gt, "ge": operator.ge, "lt": operator.lt, "le": operator.le}

Tree = Dict[str, "Tree"]
# Given a dotted field path as the caller wrote it, the canonical path and its type, or None.
FieldResolver = Callable[[Sequence[str]], Optional[Tuple[Tuple[str, ...], str]]]


class QueryError(ValueError):
    """A query parameter the API cannot parse; `param` names it (the ModelState key)."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param
        self.message = message


@dataclass(frozen=True)
class Filter:
    """One `Field,op,value` term; `path` has several names for a field inside an embed."""

    path: Tuple[str, ...]
    op: str
    values: Tuple[Any, ...]


@dataclass(frozen=True)
class Page:
    size: int
    number: int

    def bounds(self) -> Tuple[int, int]:
        start = (self.number - 1) * self.size
        return start, start + self.size


def query_params(pairs: Iterable[Tuple[str, str]]) -> Dict[str, str]:
    """Query parameters by lower-cased name (the API reads `PageSize` and `pagesize` alike)."""
    params: Dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key.lower(), value)
    return params


def normalize_datetime(text: str) -> str:
    """A date or date-time as the API writes it: `2024-05-01T00:00:00`; ValueError if unreadable."""
    raw = text.strip()
    for pattern in ("%m/%d/%Y", "%m/%d/%Y %H:%M:%S"):
        try:
            return datetime.strptime(raw, pattern).strftime("%Y-%m-%dT%H:%M:%S")
        except ValueError:
            pass
    if raw.endswith(("Z", "z")):
        raw = raw[:-1]
    parsed = datetime.fromisoformat(raw)
    return parsed.replace(tzinfo=None, microsecond=0).isoformat()


def coerce(raw: str, kind: str) -> Any:
    """A filter value as the field's type; ValueError when it is not one."""
    text = raw.strip()
    if text.lower() == "null":
        return None
    if kind == "int":
        return int(text)
    if kind == "decimal":
        return float(text)
    if kind == "bool":
        flags = {"true": True, "1": True, "false": False, "0": False}
        if text.lower() not in flags:
            raise ValueError(f"'{text}' is not true or false")
        return flags[text.lower()]
    if kind == "date":
        return normalize_datetime(text)
    return text.casefold()


def parse_filters(text: str, resolve: FieldResolver) -> List[Filter]:
    """`Field,op,value;Field2,op,value` into terms, typed by the resource's fields (AND-ed)."""
    terms: List[Filter] = []
    for piece in text.split(";"):
        if piece.strip():
            terms.append(_parse_term(piece.strip(), resolve))
    return terms


def _parse_term(piece: str, resolve: FieldResolver) -> Filter:
    def fail(reason: str) -> QueryError:
        return QueryError("filters", f"Error parsing filter '{piece}': {reason}")

    parts = piece.split(",", 2)
    if len(parts) < 2:
        raise fail("expected Field,Operation,Value.")
    name, op = parts[0].strip(), parts[1].strip().lower()
    raw = parts[2] if len(parts) == 3 else ""
    resolved = resolve([p.strip() for p in name.split(".")])
    if resolved is None:
        raise fail(f"'{name}' is not a valid field.")
    path, kind = resolved
    if op not in OPERATORS:
        raise fail(f"'{op}' is not a valid operation.")
    if op == "hv":
        try:
            return Filter(path, op, (coerce(raw or "true", "bool"),))
        except ValueError as exc:
            raise fail(str(exc)) from exc
    if len(parts) < 3:
        raise fail("expected Field,Operation,Value.")
    if op in TEXT_OPERATORS:
        return Filter(path, op, (raw.strip().casefold(),))
    items = _list_items(raw) if op in LIST_OPERATORS else [raw]
    if op == "bt" and len(items) != 2:
        raise fail("'bt' takes two values, as in (2,10).")
    try:
        values = tuple(coerce(item, kind) for item in items)
    except ValueError as exc:
        raise fail(f"the value is not a valid {kind} ({exc}).") from exc
    return Filter(path, op, values)


def _list_items(raw: str) -> List[str]:
    text = raw.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return [item for item in text.split(",") if item.strip()]


def matches(record: Mapping[str, Any], term: Filter) -> bool:
    """True when any value at the term's path satisfies it (a nested phone, a top-level field)."""
    return any(_test(value, term) for value in _leaves(record, term.path))


def _leaves(value: Any, path: Sequence[str]) -> Iterator[Any]:
    if not path:
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item, path)
    elif isinstance(value, dict):
        yield from _leaves(value.get(path[0]), path[1:])


def _test(value: Any, term: Filter) -> bool:
    op, values = term.op, term.values
    if op == "hv":
        return (value is not None and value != "") == values[0]
    if op in TEXT_OPERATORS:
        if value is None:
            return False
        text, needle = str(value).casefold(), values[0]
        return needle in text if op == "ct" else text.startswith(needle) if op == "sw" else text.endswith(needle)
    if isinstance(value, str):
        value = value.casefold()
    if op in ("in", "ni"):
        return (value in values) == (op == "in")
    if value is None:
        return op in OR_NULL or (op == "eq" and values[0] is None) or (op == "ne" and values[0] is not None)
    if op == "eq":
        return value == values[0]
    if op == "ne":
        return value != values[0]
    if any(bound is None for bound in values):
        return False
    try:
        if op == "bt":
            return values[0] <= value <= values[1]
        return _COMPARE[OR_NULL.get(op, op)](value, values[0])
    except TypeError:  # a value stored with another type than the field's
        return False


def parse_tree(text: str, param: str) -> Tree:
    """A comma list of dotted names (`Contacts.PhoneNumbers,Leases`) as a nested dict."""
    tree: Tree = {}
    for item in text.split(","):
        if not item.strip():
            continue
        node = tree
        for part in item.split("."):
            if not part.strip():
                raise QueryError(param, f"'{item.strip()}' is not a valid {param} entry.")
            node = node.setdefault(part.strip(), {})
    return tree


def select_fields(value: Any, tree: Tree) -> Any:
    """Keeps only the named fields (at each depth); an empty tree keeps everything."""
    if not tree:
        return value
    if isinstance(value, list):
        return [select_fields(item, tree) for item in value]
    if isinstance(value, dict):
        return {name: select_fields(value[name], sub) for name, sub in tree.items() if name in value}
    return value


def parse_paging(params: Mapping[str, str]) -> Page:
    """`pagesize` (default and maximum 1000: larger is clamped) and `pagenumber` (from 1)."""
    size = _positive(params, "pagesize", MAX_PAGE_SIZE)
    number = _positive(params, "pagenumber", 1)
    return Page(min(size, MAX_PAGE_SIZE), number)


def _positive(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryError(name, f"The value '{raw}' is not valid for {name}.") from None
    if value < 1:
        raise QueryError(name, f"{name} must be 1 or more.")
    return value


def paging_headers(url: str, pairs: Sequence[Tuple[str, str]], page: Page, total: int, shown: int) -> Dict[str, str]:
    """X-Total-Results, X-Results and a Link header with first/previous/next/last pages."""
    last = max(1, math.ceil(total / page.size))
    kept = [(k, v) for k, v in pairs if k.lower() not in ("pagesize", "pagenumber")]

    def link(number: int, rel: str) -> str:
        query = urlencode(kept + [("pagesize", str(page.size)), ("pagenumber", str(number))])
        return f'<{url}?{query}>; rel="{rel}"'

    links = [link(1, "first")]
    if page.number > 1:
        links.append(link(min(page.number - 1, last), "previous"))
    if page.number < last:
        links.append(link(page.number + 1, "next"))
    links.append(link(last, "last"))
    return {"X-Total-Results": str(total), "X-Results": str(shown), "Link": ", ".join(links)}
