"""The list pipeline: resolve names against a resource, filter, page, embed, select fields.

Why apart from the definitions: this is the behaviour a client observes on every GET, and it
works the same for every resource in `schema`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, List, Mapping, Optional, Sequence, Tuple

from standins.rentmanager.query import (
    Filter,
    Page,
    QueryError,
    Tree,
    matches,
    parse_filters,
    parse_paging,
    parse_tree,
    select_fields,
)
from standins.rentmanager.schema import RESOURCES, Resource
from standins.rentmanager.store import Record, Store


class EmbedError(LookupError):
    """An embed the resource does not have (the real API answers 404)."""


def _named(names: Mapping[str, Any], wanted: str) -> Optional[str]:
    """The canonical spelling of `wanted` among `names` (the API is case-insensitive)."""
    lowered = wanted.lower()
    return next((name for name in names if name.lower() == lowered), None)


def resolve_field(resource: Resource, path: Sequence[str]) -> Optional[Tuple[Tuple[str, ...], str]]:
    """A dotted filter field (`Contacts.PhoneNumbers.StrippedPhoneNumber`) as canonical names and type."""
    canonical: List[str] = []
    for step in path[:-1]:
        name = _named(resource.relations, step)
        if name is None or not resource.relations[name].target:
            return None
        canonical.append(name)
        resource = RESOURCES[resource.relations[name].target]
    name = _named(resource.fields, path[-1]) if path else None
    return (tuple(canonical) + (name,), resource.fields[name]) if name else None


def resolve_embeds(resource: Resource, tree: Tree) -> Tree:
    resolved: Tree = {}
    for wanted, sub in tree.items():
        name = _named(resource.relations, wanted)
        if name is None or (sub and not resource.relations[name].target):
            raise EmbedError(f"'{wanted}' is not a valid embed for {resource.name}.")
        resolved[name] = resolve_embeds(RESOURCES[resource.relations[name].target], sub) if sub else {}
    return resolved


def resolve_fields(resource: Resource, tree: Tree) -> Tree:
    resolved: Tree = {}
    for wanted, sub in tree.items():
        name = _named(resource.fields, wanted) or _named(resource.relations, wanted)
        target = resource.relations[name].target if name in resource.relations else ""
        if name is None or (sub and not target):
            raise QueryError("fields", f"'{wanted}' is not a valid field of {resource.name}.")
        resolved[name] = resolve_fields(RESOURCES[target], sub) if sub else {}
    return resolved


def attach(store: Store, resource: Resource, records: List[Record], tree: Tree) -> None:
    """Adds the named embeds to each record, depth by depth."""
    for name, sub in tree.items():
        relation = resource.relations[name]
        values = relation.load(store, records)
        nested: List[Record] = []
        for record, value in zip(records, values):
            if relation.many and relation.target:
                value = [ordered(RESOURCES[relation.target], row) for row in value]
                nested.extend(value)
            elif relation.target and value is not None:
                value = ordered(RESOURCES[relation.target], value)
                nested.append(value)
            record[name] = value
        if sub:
            attach(store, RESOURCES[relation.target], nested, sub)


@dataclass
class Query:
    """A list request's parsed parameters, checked against the resource."""

    filters: List[Filter]
    embeds: Tree
    fields: Tree
    page: Page

    @classmethod
    def parse(cls, resource: Resource, params: Mapping[str, str]) -> "Query":
        filters = parse_filters(params.get("filters", ""), lambda path: resolve_field(resource, path))
        fields = resolve_fields(resource, parse_tree(params.get("fields", ""), "fields"))
        page = parse_paging(params)
        try:
            embeds = resolve_embeds(resource, parse_tree(params.get("embeds", ""), "embeds"))
        except QueryError as exc:
            raise EmbedError(exc.message) from exc
        return cls(filters, embeds, fields, page)


def list_records(
    store: Store, resource: Resource, query: Query, where: Optional[Callable[[Record], bool]] = None
) -> Tuple[List[Record], int]:
    """One page of matching records (embeds attached, fields selected) and the total match count."""
    rows = [row for row in store.all(resource.name) if where is None or where(row)]
    if query.filters:
        needed: Tree = {}
        for term in query.filters:
            node = needed
            for name in term.path[:-1]:
                node = node.setdefault(name, {})
        shadow = [dict(row) for row in rows]
        attach(store, resource, shadow, needed)
        rows = [row for row, seen in zip(rows, shadow) if all(matches(seen, term) for term in query.filters)]
    start, end = query.page.bounds()
    shown = rows[start:end]
    return render(store, resource, shown, query.embeds, query.fields), len(rows)


def ordered(resource: Resource, row: Record) -> Record:
    """A copy of a record with its fields in the resource's order (the key first), as the API writes them."""
    first = {name: row[name] for name in resource.fields if name in row}
    return {**first, **{name: value for name, value in row.items() if name not in first}}


def render(store: Store, resource: Resource, rows: List[Record], embeds: Tree, fields: Tree) -> List[Record]:
    """Records as answered: embeds attached, fields in order, then only the fields asked for."""
    rows = [ordered(resource, row) for row in rows]
    attach(store, resource, rows, embeds)
    return [select_fields(row, fields) for row in rows]
