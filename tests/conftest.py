"""Shared fixtures: real servers started as processes, on free loopback ports."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from stack.processes import Process, free_port


@dataclass
class StandIn:
    """A running Rent Manager stand-in and its fault switches."""

    url: str
    process: Process
    _token: str = ""

    def fault(self, **switches: Any) -> None:
        httpx.post(f"{self.url}/_standin/faults", json=switches, timeout=5).raise_for_status()

    def clear_faults(self) -> None:
        httpx.delete(f"{self.url}/_standin/faults", timeout=5).raise_for_status()

    def get(self, path: str, token: str, **params: Any) -> Any:
        """Reads the stand-in as a person would, to see what was filed."""
        response = httpx.get(
            f"{self.url}{path}", params=params, headers={"X-RM12Api-ApiToken": token}, timeout=10
        )
        response.raise_for_status()
        return [] if response.status_code == 204 else response.json()

    def login(self) -> str:
        """A token for reading; one is reused (Rent Manager allows ten live tokens per user)."""
        if self._token:
            check = httpx.get(f"{self.url}/Locations", headers={"X-RM12Api-ApiToken": self._token}, timeout=5)
            if check.status_code == 200:
                return self._token
        response = httpx.post(
            f"{self.url}/Authentication/AuthorizeUser",
            json={"Username": "api", "Password": "standin", "LocationID": 1},
            timeout=5,
        )
        response.raise_for_status()
        self._token = response.json()
        return self._token


def start_standin(tmp: Path, *extra: str) -> StandIn:
    port = free_port()
    process = Process(
        name="rentmanager-standin",
        argv=[sys.executable, "-m", "standins.rentmanager", "--port", str(port), "--db", str(tmp / "rm.sqlite3"), *extra],
        health_url=f"http://127.0.0.1:{port}/_standin/health",
        log_path=str(tmp / "standin.log"),
    )
    process.start()
    process.wait_healthy(30)
    return StandIn(url=f"http://127.0.0.1:{port}", process=process)


@pytest.fixture(scope="session")
def standin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIn]:
    server = start_standin(tmp_path_factory.mktemp("standin"))
    yield server
    server.process.stop()


@pytest.fixture
def standin(standin_server: StandIn) -> Iterator[StandIn]:
    """The session's stand-in with no faults switched on, before and after the test."""
    standin_server.clear_faults()
    yield standin_server
    standin_server.clear_faults()


@dataclass
class OpenAIStandIn:
    """A running OpenAI-compatible stand-in: base URL for the SDK, and its switches."""

    url: str
    process: Process

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def fault(self, **switches: Any) -> None:
        httpx.post(f"{self.url}/_standin/faults", json=switches, timeout=5).raise_for_status()

    def reset(self) -> None:
        httpx.delete(f"{self.url}/_standin/faults", timeout=5).raise_for_status()
        httpx.delete(f"{self.url}/_standin/requests", timeout=5).raise_for_status()

    def requests(self) -> list:
        return httpx.get(f"{self.url}/_standin/requests", timeout=5).json()["requests"]


@pytest.fixture(scope="session")
def openai_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAIStandIn]:
    tmp = tmp_path_factory.mktemp("openai")
    port = free_port()
    process = Process(
        name="openai-standin",
        argv=[sys.executable, "-m", "standins.openai", "--port", str(port)],
        health_url=f"http://127.0.0.1:{port}/_standin/health",
        log_path=str(tmp / "openai.log"),
    )
    process.start()
    process.wait_healthy(30)
    yield OpenAIStandIn(url=f"http://127.0.0.1:{port}", process=process)
    process.stop()


@pytest.fixture
def openai_standin(openai_server: OpenAIStandIn) -> Iterator[OpenAIStandIn]:
    openai_server.reset()
    yield openai_server
    openai_server.reset()
