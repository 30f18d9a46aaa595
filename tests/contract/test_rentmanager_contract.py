"""The stand-in against the shapes the Rent Manager reference records (rentmanager_shapes.json).

Why a data file: the shapes are transcribed once from shared/reference/rentmanager.md; when the
stand-in drifts from them (a renamed field, a wrong status, a missing header) a case here fails.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List

import httpx
import pytest

from tests.conftest import StandIn, start_standin

SHAPES = json.loads((Path(__file__).parent / "rentmanager_shapes.json").read_text())
DEFINITIONS: Dict[str, Any] = SHAPES["definitions"]
TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def expand(shape: Any) -> Any:
    """Replaces `$Name` references (and `{"$": "$Name", ...}` extensions) by their definitions."""
    if isinstance(shape, str) and shape.startswith("$"):
        return expand(DEFINITIONS[shape[1:]])
    if isinstance(shape, list):
        return [expand(shape[0])]
    if isinstance(shape, dict):
        base = expand(shape["$"]) if "$" in shape else {}
        return {**base, **{k: expand(v) for k, v in shape.items() if k != "$"}}
    return shape


def problems(value: Any, shape: Any, where: str = "body") -> List[str]:
    """Every way `value` differs from `shape`; empty when it conforms."""
    if isinstance(shape, str):
        return [] if TYPES[shape](value) else [f"{where}: expected {shape}, got {json.dumps(value)[:80]}"]
    if isinstance(shape, list):
        if not isinstance(value, list) or not value:
            return [f"{where}: expected a non-empty array, got {json.dumps(value)[:80]}"]
        return [p for i, item in enumerate(value) for p in problems(item, shape[0], f"{where}[{i}]")]
    if not isinstance(value, dict):
        return [f"{where}: expected an object, got {json.dumps(value)[:80]}"]
    found = []
    for name, sub in shape.items():
        if name not in value:
            found.append(f"{where}: missing field {name}")
        else:
            found.extend(problems(value[name], sub, f"{where}.{name}"))
    return found


def at(value: Any, path: str) -> Any:
    for step in path.split("."):
        value = value[int(step)] if isinstance(value, list) else value[step]
    return value


def case_id(case: Dict[str, Any]) -> str:
    return f"sec{case['section'].replace(' ', '')} {case['name']}"


@pytest.fixture(scope="module")
def rm_standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    """A stand-in of this module's own, on the fresh demo data the cases name (tenant 1, issue 5341)."""
    server = start_standin(tmp_path_factory.mktemp("contract"))
    yield server
    server.process.stop()


@pytest.fixture(scope="module")
def token(rm_standin: StandIn) -> str:
    return rm_standin.login()


def test_every_case_names_a_reference_section() -> None:
    assert len(SHAPES["cases"]) >= 20
    assert all(case["section"] and case["name"] for case in SHAPES["cases"])
    sections = {part.strip() for case in SHAPES["cases"] for part in case["section"].split(",")}
    assert {"1", "2", "3", "4", "5", "6", "7", "8"} <= sections


@pytest.mark.parametrize("case", SHAPES["cases"], ids=case_id)
def test_standin_answers_in_the_recorded_shape(rm_standin: StandIn, token: str, case: Dict[str, Any]) -> None:
    request, expected = case["request"], case["response"]
    headers = dict(request.get("headers", {}))
    auth = request.get("auth", True)
    if auth:
        headers["X-RM12Api-ApiToken"] = token if auth is True else "0000-not-a-token"
    response = httpx.request(request["method"], rm_standin.url + request["path"], params=request.get("params"),
                             json=request.get("json"), headers=headers, timeout=10)
    assert response.status_code == expected["status"], response.text
    for name, pattern in expected.get("headers", {}).items():
        assert name in response.headers, f"missing header {name}"
        assert re.search(pattern, response.headers[name]), f"{name}: {response.headers[name]!r} !~ {pattern}"
    if "body" in expected and expected["body"] is None:
        assert response.content == b""
        return
    body = response.json()
    if "body" in expected:
        shape = expand(expected["body"])
        assert problems(body, shape) == []
        if expected.get("exact"):
            assert set(body) == set(shape), f"unexpected fields {set(body) - set(shape)}"
    for record in body if isinstance(body, list) else [body]:
        assert not set(expected.get("absent", [])) & set(record), f"fields the reference rules out: {record}"
    for path, pattern in expected.get("match", {}).items():
        value = at(body, path)
        text = value if isinstance(value, str) else json.dumps(value)
        assert re.search(pattern, text), f"{path}: {text!r} !~ {pattern}"


def test_shape_checker_can_fail() -> None:
    """The checker itself must notice a wrong type, a missing field and an empty list."""
    tenant = expand("$Tenant")
    assert problems({"TenantID": "7"}, {"TenantID": "integer"})
    assert problems({}, tenant)
    assert problems([], [tenant])
    assert problems({"IsClosed": 0}, {"IsClosed": "boolean"})
    assert not problems({"Contacts": [{"ContactID": 1}]}, {"Contacts": [{"ContactID": "integer"}]})
