"""Every environment variable the action server reads, read in one place.

`Settings.from_env()` is called when an action first needs it, never at import time,
so rasa-sdk can import this package without side effects.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

# The local Rent Manager stand-in (standins/rentmanager) and its demo login: used when
# RENT_MANAGER_BASE_URL is unset, so a fresh checkout runs with no credentials at all.
STANDIN_DEFAULT_PORT = 5100
STANDIN_USERNAME = "api"
STANDIN_PASSWORD = "standin"
STANDIN_LOCATION_ID = 1

DEFAULT_OUTBOX_URL = "sqlite:///.state/outbox.sqlite3"


class ConfigError(ValueError):
    """A setting is present but unusable; the message names the variable and the fix."""


def _int(env: Mapping[str, str], name: str, default: Optional[int]) -> Optional[int]:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number; set it to e.g. {default or 1}.")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number; set it to e.g. {default}.")
    if value <= 0:
        raise ConfigError(f"{name} must be greater than zero (got {raw}).")
    return value


@dataclass(frozen=True)
class RentManagerSettings:
    """How to reach Rent Manager, or the local stand-in when no base URL is set."""

    base_url: str
    username: str
    password: str
    location_id: Optional[int]
    timeout: float
    phone_index_ttl: float
    is_standin: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "RentManagerSettings":
        base_url = env.get("RENT_MANAGER_BASE_URL", "").strip()
        timeout = _float(env, "RENT_MANAGER_TIMEOUT", 5.0)
        ttl = _float(env, "RENT_MANAGER_PHONE_INDEX_TTL", 300.0)
        if not base_url:
            port = _int(env, "RENT_MANAGER_STANDIN_PORT", STANDIN_DEFAULT_PORT)
            return cls(
                base_url=f"http://127.0.0.1:{port}",
                username=env.get("RENT_MANAGER_USERNAME") or STANDIN_USERNAME,
                password=env.get("RENT_MANAGER_PASSWORD") or STANDIN_PASSWORD,
                location_id=_int(env, "RENT_MANAGER_LOCATION_ID", STANDIN_LOCATION_ID),
                timeout=timeout,
                phone_index_ttl=ttl,
                is_standin=True,
            )
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(
                f"RENT_MANAGER_BASE_URL={base_url!r} must start with https:// "
                "(e.g. https://yourcompany.api.rentmanager.com)."
            )
        missing = [n for n in ("RENT_MANAGER_USERNAME", "RENT_MANAGER_PASSWORD") if not env.get(n)]
        if missing:
            raise ConfigError(
                f"RENT_MANAGER_BASE_URL is set but {' and '.join(missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not; set the Rent Manager API user's login."
            )
        return cls(
            base_url=base_url.rstrip("/"),
            username=env["RENT_MANAGER_USERNAME"],
            password=env["RENT_MANAGER_PASSWORD"],
            location_id=_int(env, "RENT_MANAGER_LOCATION_ID", None),
            timeout=timeout,
            phone_index_ttl=ttl,
            is_standin=False,
        )


@dataclass(frozen=True)
class OutboxSettings:
    """Where durable writes wait until Rent Manager accepts them."""

    database_url: str
    retry_base: float
    retry_max: float
    lease: float

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "OutboxSettings":
        return cls(
            database_url=env.get("OUTBOX_DB_URL", "").strip() or DEFAULT_OUTBOX_URL,
            retry_base=_float(env, "OUTBOX_RETRY_BASE_SECONDS", 2.0),
            retry_max=_float(env, "OUTBOX_RETRY_MAX_SECONDS", 300.0),
            lease=_float(env, "OUTBOX_LEASE_SECONDS", 60.0),
        )


@dataclass(frozen=True)
class CallSettings:
    """Where calls go when the assistant hands them to a person."""

    transfer_number: str
    oncall_number: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "CallSettings":
        transfer = env.get("TRANSFER_NUMBER", "").strip() or "+17184146984"
        oncall = env.get("ONCALL_NUMBER", "").strip() or transfer
        for name, value in (("TRANSFER_NUMBER", transfer), ("ONCALL_NUMBER", oncall)):
            digits = "".join(ch for ch in value if ch.isdigit())
            if not value.startswith("+") or len(digits) < 10:
                raise ConfigError(f"{name}={value!r} is not an E.164 number; write it like +17184146984.")
        return cls(transfer_number=transfer, oncall_number=oncall)


@dataclass(frozen=True)
class LLMSettings:
    """The LLM responder; no OPENAI_API_KEY means no LLM (the deterministic assistant only)."""

    api_key: Optional[str]
    model: str
    budget: float
    quota_pause: float
    push_token: Optional[str]
    rasa_url: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "LLMSettings":
        rasa_port = _int(env, "RASA_PORT", 5005)
        return cls(
            api_key=env.get("OPENAI_API_KEY") or None,
            model=env.get("OPENAI_MODEL", "").strip() or "gpt-4o",
            budget=_float(env, "LLM_BUDGET_SECONDS", 4.0),
            quota_pause=_float(env, "LLM_QUOTA_PAUSE_SECONDS", 900.0),
            push_token=env.get("ASSISTANT_PUSH_TOKEN") or None,
            rasa_url=(env.get("RASA_URL") or f"http://127.0.0.1:{rasa_port}").rstrip("/"),
        )
