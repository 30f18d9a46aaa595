"""Child processes that are started, waited on until healthy, and stopped together.

Used by `make run` and by the tests, so both exercise the same start-up path.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence
from urllib.parse import urlsplit

import httpx

logger = logging.getLogger(__name__)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Process:
    """One child process and the URL that says it is ready."""

    name: str
    argv: Sequence[str]
    health_url: str
    env: Mapping[str, str] = field(default_factory=dict)
    log_path: Optional[str] = None
    popen: Optional[subprocess.Popen] = None

    @property
    def base_url(self) -> str:
        """scheme://host:port of the health URL."""
        parts = urlsplit(self.health_url)
        return f"{parts.scheme}://{parts.netloc}"

    def start(self) -> None:
        env = dict(os.environ)
        env.update(self.env)
        out = open(self.log_path, "ab") if self.log_path else None
        self.popen = subprocess.Popen(
            list(self.argv), env=env, stdout=out, stderr=subprocess.STDOUT if out else None,
            start_new_session=True,
        )

    def wait_healthy(self, timeout: float) -> None:
        """Polls the health URL; fails with the log's tail if the process dies or is too slow."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited with code {self.popen.returncode}{self._log_tail()}")
            try:
                if httpx.get(self.health_url, timeout=1.0).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} was not healthy at {self.health_url} within {timeout:.0f}s{self._log_tail()}")

    def _log_tail(self) -> str:
        if not self.log_path or not os.path.exists(self.log_path):
            return ""
        with open(self.log_path, "rb") as handle:
            tail = handle.read()[-3000:].decode("utf-8", "replace")
        return f"\n--- last lines of {self.log_path} ---\n{tail}"

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the whole process group, then SIGKILL if it lingers."""
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """Ends the process at once, as a crash would."""
        if self.popen is not None and self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()


@dataclass
class Group:
    """Processes started in order and stopped in reverse."""

    processes: List[Process] = field(default_factory=list)

    def start(self, process: Process, timeout: float) -> Process:
        self.processes.append(process)
        process.start()
        process.wait_healthy(timeout)
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()

    def by_name(self) -> Dict[str, Process]:
        return {p.name: p for p in self.processes}
