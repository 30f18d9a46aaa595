"""The API's routes and their handlers, matched the way ASP.NET Web API matches them.

Why a router of our own: the real API matches paths case-insensitively, refuses a non-numeric id
with the "No HTTP resource" 404, and answers 405 for a verb a known route does not take; a table
of patterns reproduces all three exactly, where framework routing would answer in its own shapes.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

from sanic.request import Request
from sanic.response import HTTPResponse

from standins.rentmanager import writes
from standins.rentmanager.auth import RateCounter, Session, TokenStore, TooManySessions
from standins.rentmanager.errors import (
    bad_method,
    error_model,
    json_response,
    model_state,
    no_route,
    not_found,
    unauthorized,
)
from standins.rentmanager.listing import EmbedError, Query, list_records, render
from standins.rentmanager.query import QueryError, paging_headers, query_params
from standins.rentmanager.schema import ROUTED, Resource
from standins.rentmanager.store import Record, Store

TOKEN_HEADER = "X-RM12Api-ApiToken"
LOCATION_HEADER = "X-RM12Api-LocationID"


@dataclass
class Standin:
    """Everything a request may touch: data, sessions, rate counts and the demo login."""

    store: Store
    tokens: TokenStore
    rates: RateCounter
    username: str
    password: str


@dataclass
class Call:
    """One API request as the handlers see it."""

    request: Request
    standin: Standin
    ids: List[int]
    params: Dict[str, str]
    session: Optional[Session] = None
    rate_headers: Optional[Dict[str, str]] = None

    @property
    def store(self) -> Store:
        return self.standin.store

    def body(self) -> Any:
        """The JSON body; a leading UTF-8 BOM is accepted, as the real API does."""
        text = (self.request.body or b"").decode("utf-8-sig", errors="replace").strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise model_state("body", [f"The request body is not valid JSON: {exc}"]) from None


Handler = Callable[[Call], HTTPResponse]


@dataclass
class Route:
    pattern: Tuple[str, ...]  # lower-case literals; "{id}" matches a whole number
    methods: Dict[str, Handler]
    auth: bool = True

    def match(self, segments: Sequence[str]) -> Optional[List[int]]:
        if len(segments) != len(self.pattern):
            return None
        ids = []
        for want, got in zip(self.pattern, segments):
            if want == "{id}":
                if not got.isdigit():
                    return None
                ids.append(int(got))
            elif want != got.lower():
                return None
        return ids


# -- authentication ------------------------------------------------------------------------


def _location(call: Call, raw: Any) -> int:
    """A location the user may use; 403 otherwise (reference §8)."""
    try:
        location_id = int(raw)
    except (TypeError, ValueError):
        location_id = None
    if location_id is None or not call.store.exists("Locations", location_id):
        raise error_model(403, "Forbidden.", f"User does not have access to location {raw}.")
    return location_id


def authorize_user(call: Call) -> HTTPResponse:
    body = call.body()
    creds = {str(k).lower(): v for k, v in body.items()} if isinstance(body, dict) else {}
    standin = call.standin
    user = str(creds.get("username") or "")
    if user.lower() != standin.username.lower() or creds.get("password") != standin.password:
        raise unauthorized("Invalid username or password")
    raw_location = creds.get("locationid")
    location_id = _location(call, raw_location) if raw_location is not None else _default_location(call.store)
    try:
        token = standin.tokens.issue(standin.username, location_id)
    except TooManySessions:
        raise unauthorized("User is already logged in maximum number of times") from None
    return json_response(token)


def _default_location(store: Store) -> int:
    return store.all("Locations")[0]["LocationID"]


def authorize_token(call: Call) -> HTTPResponse:
    token = call.params.get("token", "")
    if not token or call.standin.tokens.check(token) is None:
        raise unauthorized()
    return json_response(token)


def deauthorize(call: Call) -> HTTPResponse:
    token = call.params.get("token") or call.request.headers.get(TOKEN_HEADER, "")
    call.standin.tokens.revoke(token)
    return HTTPResponse(status=204)


def change_location(call: Call) -> HTTPResponse:
    assert call.session is not None
    call.session.location_id = _location(call, call.params.get("locationid"))
    return HTTPResponse(status=204)


def authenticate(call: Call) -> Session:
    """The session of the request's token and location header, or the API's 401/403."""
    session = call.standin.tokens.check(call.request.headers.get(TOKEN_HEADER, "").strip())
    if session is None:
        raise unauthorized()
    raw = call.request.headers.get(LOCATION_HEADER)
    if raw is not None and raw.strip():
        _location(call, raw.strip())
    return session


# -- reads ---------------------------------------------------------------------------------


def _parsed(resource: Resource, params: Mapping[str, str]) -> Query:
    try:
        return Query.parse(resource, params)
    except QueryError as exc:
        raise model_state(exc.param, [exc.message]) from None
    except EmbedError as exc:
        raise error_model(404, "The requested embed was not found.", str(exc)) from None


def listing(resource: Resource, where: Optional[Callable[[Call, Record], bool]] = None) -> Handler:
    """GET on a collection: filters, embeds, fields, paging; 204 when nothing is on the page."""

    def handle(call: Call) -> HTTPResponse:
        query = _parsed(resource, call.params)
        keep = (lambda row: where(call, row)) if where else None
        rows, total = list_records(call.store, resource, query, keep)
        request = call.request
        url = f"{request.scheme}://{request.host}{request.path}"
        headers = paging_headers(url, request.query_args, query.page, total, len(rows))
        if not rows:
            return HTTPResponse(status=204, headers=headers)
        return json_response(rows, headers=headers)

    return handle


def one(resource: Resource) -> Handler:
    def handle(call: Call) -> HTTPResponse:
        record = call.store.get(resource.name, call.ids[0])
        if record is None:
            raise not_found(resource.label, call.ids[0])
        query = _parsed(resource, call.params)
        return json_response(render(call.store, resource, [record], query.embeds, query.fields)[0])

    return handle


def _saved(call: Call, resource: Resource, records: List[Record], single: bool = False) -> HTTPResponse:
    """A write's answer: the saved records, with any `embeds`/`fields` the query asked for."""
    query = _parsed(resource, call.params)
    rows = render(call.store, resource, records, query.embeds, query.fields)
    return json_response(rows[0] if single else rows)


# -- writes --------------------------------------------------------------------------------


def post_issues(call: Call) -> HTTPResponse:
    return _saved(call, ROUTED["servicemanagerissues"], writes.save_issues(call.store, call.body()))


def post_issue(call: Call) -> HTTPResponse:
    """`POST /ServiceManagerIssues/{id}` with one object: an update of that issue."""
    body = call.body()
    if not isinstance(body, dict):
        raise model_state("body", ["Expected one service issue object."])
    body = {k: v for k, v in body.items() if k.lower() != "servicemanagerissueid"}
    body["ServiceManagerIssueID"] = call.ids[0]
    return _saved(call, ROUTED["servicemanagerissues"], writes.save_issues(call.store, body), single=True)


def link_issue(entity_type: str, param: str) -> Handler:
    def handle(call: Call) -> HTTPResponse:
        issue = writes.link_by_route(call.store, call.ids[0], entity_type, call.params.get(param))
        return _saved(call, ROUTED["servicemanagerissues"], [issue], single=True)

    return handle


def post_prospects(call: Call) -> HTTPResponse:
    return _saved(call, ROUTED["prospects"], writes.save_prospects(call.store, call.body()))


def notes_of(entity_type: str) -> Tuple[Handler, Handler]:
    """GET and POST on `/Tenants/{id}/HistoryNotes` or `/Prospects/{id}/HistoryNotes`."""
    parent = "Tenants" if entity_type == "Tenant" else "Prospects"
    read = listing(ROUTED["historynotes"],
                   lambda call, row: row.get("EntityType") == entity_type and row.get("ParentID") == call.ids[0])

    def get(call: Call) -> HTTPResponse:
        if not call.store.exists(parent, call.ids[0]):
            raise not_found(entity_type, call.ids[0])
        return read(call)

    def post(call: Call) -> HTTPResponse:
        saved = writes.save_history_notes(call.store, entity_type, call.ids[0], call.body())
        return _saved(call, ROUTED["historynotes"], saved)

    return get, post


def build_routes() -> List[Route]:
    routes = [
        Route(("authentication", "authorizeuser"), {"POST": authorize_user}, auth=False),
        Route(("authentication", "authorizetoken"), {"POST": authorize_token, "GET": authorize_token}, auth=False),
        Route(("authentication", "deauthorize"), {"POST": deauthorize}, auth=False),
        Route(("authentication", "changelocation"), {"POST": change_location}),
        Route(("servicemanagerissues", "{id}", "linkunit"), {"POST": link_issue("Unit", "unitid")}),
        Route(("servicemanagerissues", "{id}", "linktenant"), {"POST": link_issue("Tenant", "tenantid")}),
        Route(("servicemanagerissues", "{id}", "linkproperty"), {"POST": link_issue("Property", "propertyid")}),
    ]
    for entity_type, parent in (("Tenant", "tenants"), ("Prospect", "prospects")):
        get, post = notes_of(entity_type)
        routes.append(Route((parent, "{id}", "historynotes"), {"GET": get, "POST": post}))
    collection_posts = {"prospects": post_prospects, "servicemanagerissues": post_issues}
    record_posts = {"servicemanagerissues": post_issue}
    for name, resource in ROUTED.items():
        routes.append(Route((name,), {"GET": listing(resource), **_maybe("POST", collection_posts.get(name))}))
        routes.append(Route((name, "{id}"), {"GET": one(resource), **_maybe("POST", record_posts.get(name))}))
    return routes


def _maybe(method: str, handler: Optional[Handler]) -> Dict[str, Handler]:
    return {method: handler} if handler else {}


def dispatch(routes: List[Route], call: Call, path: str) -> HTTPResponse:
    """Route, verb, token, location, rate limit, then the handler: the order ASP.NET applies them."""
    segments = [segment for segment in path.split("/") if segment]
    for route in routes:
        ids = route.match(segments)
        if ids is None:
            continue
        method = call.request.method.upper()
        handler = route.methods.get(method)
        if handler is None:
            raise bad_method(method, sorted(route.methods))
        call.ids = ids
        if route.auth:
            call.session = authenticate(call)
            call.rate_headers = call.standin.rates.hit(call.session.user)
            if call.standin.rates.exceeded(call.session.user):
                raise error_model(429, "Too many requests.", "API rate limit exceeded; retry after x-ratelimit-reset.")
        return handler(call)
    raise no_route(call.request.url)


def new_call(request: Request, standin: Standin) -> Call:
    return Call(request=request, standin=standin, ids=[], params=query_params(request.query_args))
