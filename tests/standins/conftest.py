"""Rent Manager stand-ins of this folder's own, started the project's way (tests/conftest.py).

Why not the session-wide stand-in: these tests log in ten times, expire every token, restart
the process and reseed it, which would disturb the other test folders.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import httpx
import pytest

from tests.conftest import StandIn, start_standin

LOGIN = {"Username": "api", "Password": "standin", "LocationID": 1}


def login(standin: StandIn) -> str:
    """A new token on every call (StandIn.login reuses one; these tests count sessions)."""
    response = httpx.post(f"{standin.url}/Authentication/AuthorizeUser", json=LOGIN, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


def client(standin: StandIn, token: Optional[str] = None) -> httpx.Client:
    """An httpx client on the stand-in, sending `token` as Rent Manager's API token header."""
    headers = {"X-RM12Api-ApiToken": token} if token else {}
    return httpx.Client(base_url=standin.url, headers=headers, timeout=5)


def health(standin: StandIn) -> Dict[str, Any]:
    return httpx.get(f"{standin.url}/_standin/health", timeout=5).json()


@contextmanager
def running(tmp: Path, *flags: str) -> Iterator[StandIn]:
    """A stand-in on `tmp/rm.sqlite3` for the length of a `with` block (same folder: same data)."""
    standin = start_standin(tmp, *flags)
    try:
        yield standin
    finally:
        standin.process.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    """A stand-in on a fresh demo database, shared by one test module."""
    with running(tmp_path_factory.mktemp("rm")) as standin:
        yield standin


@pytest.fixture
def rm(server: StandIn) -> Iterator[StandIn]:
    """The module's stand-in with every fault switched off before and after the test."""
    server.clear_faults()
    yield server
    server.clear_faults()


@pytest.fixture
def api(rm: StandIn) -> Iterator[httpx.Client]:
    """A client holding a fresh token, freed again afterwards (ten live tokens at most)."""
    token = login(rm)
    with client(rm, token) as session:
        yield session
    httpx.post(f"{rm.url}/Authentication/DeAuthorize", params={"token": token}, timeout=5)
