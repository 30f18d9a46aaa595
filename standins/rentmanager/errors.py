"""Rent Manager's error bodies and JSON output, so every failure looks like the real API's.

Three shapes exist (reference §8): the ErrorModel (401, 403, 404 record, 5xx...), the ASP.NET
ModelState body (400 on a bad query) and the bare `{"Message": ...}` of an unknown route or verb.
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from sanic.response import HTTPResponse

# .NET's generic HRESULT (COR_E_EXCEPTION), the code the real API puts on most errors.
ERROR_CODE = -2146233088
MORE_INFO_URI = "https://api.rentmanager.com/Help"
JSON_TYPE = "application/json; charset=utf-8"

_EXCEPTIONS = {
    400: "ApiValidationException",
    401: "ApiAuthenticationException",
    403: "ApiAuthorizationException",
    404: "ApiNotFoundException",
    409: "ApiConcurrencyException",
    429: "ApiRateLimitException",
}


class ApiError(Exception):
    """Raised anywhere below a route; the app turns it into the matching response body."""

    def __init__(self, status: int, body: Dict[str, Any], headers: Optional[Mapping[str, str]] = None) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def error_model(status: int, user_message: str, developer_message: str = "") -> ApiError:
    """An ErrorModel error: UserMessage, DeveloperMessage, ErrorCode, Exception, MoreInfoUri."""
    body = {
        "UserMessage": user_message,
        "DeveloperMessage": developer_message or user_message,
        "ErrorCode": ERROR_CODE,
        "Exception": _EXCEPTIONS.get(status, "ApiException"),
        "MoreInfoUri": MORE_INFO_URI,
    }
    return ApiError(status, body)


def model_state(param: str, messages: List[str]) -> ApiError:
    """The 400 body ASP.NET gives for a query parameter it could not bind."""
    return ApiError(400, {"Message": "The request is invalid.", "ModelState": {param: list(messages)}})


def no_route(url: str) -> ApiError:
    """The bare 404 of a URL that matches no route."""
    return ApiError(404, {"Message": f"No HTTP resource was found that matches the request URI '{url}'."})


def bad_method(method: str, allowed: List[str]) -> ApiError:
    """405 for PUT, PATCH or any verb the route does not take."""
    body = {"Message": f"The requested resource does not support http method '{method}'."}
    return ApiError(405, body, {"Allow": ", ".join(allowed)})


def not_found(what: str, ident: Any) -> ApiError:
    return error_model(404, f"{what} not found.", f"No {what} with an ID of {ident} exists.")


def invalid(message: str) -> ApiError:
    """400 for a write the API refuses (a blank title, an unknown id)."""
    return error_model(400, message)


def unauthorized(developer_message: str = "Unable to authenticate - Invalid API Token.") -> ApiError:
    return error_model(401, "Authentication Failed.", developer_message)


def without_nulls(value: Any) -> Any:
    """Rent Manager omits null fields; so do we, at every depth."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def json_response(data: Any, status: int = 200, headers: Optional[Mapping[str, str]] = None) -> HTTPResponse:
    body = json.dumps(without_nulls(data), separators=(",", ":"), ensure_ascii=False)
    return HTTPResponse(body, status=status, headers=dict(headers or {}), content_type=JSON_TYPE)


def error_response(error: ApiError) -> HTTPResponse:
    return json_response(error.body, error.status, error.headers)
