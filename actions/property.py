"""The property file (property.yml): the company's facts, loaded once and checked hard.

A wrong property file must stop start-up with a message that names the field and the
fix, rather than a caller hearing "we open at None". `load_property` raises
`PropertyFileError` for every problem found, all listed at once.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, Dict, List, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

DEFAULT_PATH = "property.yml"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class PropertyFileError(ValueError):
    """The property file is unusable; the message lists each field and how to fix it."""


@dataclass(frozen=True)
class Fact:
    topic: str
    answer: str
    keywords: Tuple[str, ...]


@dataclass(frozen=True)
class Property:
    company_name: str
    spoken_name: str
    street: str
    city: str
    state: str
    zip_code: str
    spoken_address: str
    directions: str
    timezone: ZoneInfo
    persona_name: str
    persona_manner: str
    staff: Tuple[str, ...]
    hours: Dict[int, Optional[Tuple[time, time]]]  # weekday (0 = Monday) -> (open, close)
    holidays: Dict[date, str]
    facts: Dict[str, Fact]
    emergency_priority: str
    normal_priority: str
    default_category: str
    emergency_category: str
    categories: Dict[str, Tuple[str, ...]]
    next_steps: str
    emergency_next_steps: str
    history_category: str
    raw: Dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def staff_names(self) -> str:
        """ "Diane or Janier" """
        names = list(self.staff)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]

    def category_for(self, *words: Optional[str]) -> str:
        """The Rent Manager category whose keywords occur in the words, else the default."""
        text = " ".join(w for w in words if w).lower()
        for category, keywords in self.categories.items():
            for keyword in keywords:
                if re.search(rf"\b{re.escape(keyword)}\b", text):
                    return category
        return self.default_category


class _Checker:
    """Collects every problem with a path into the file, so one run shows them all."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: List[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"  - {where}: {message}")

    def text(self, data: Mapping[str, Any], key: str, where: str, example: str) -> str:
        value = data.get(key) if isinstance(data, Mapping) else None
        if value is None or (isinstance(value, str) and not value.strip()):
            self.fail(f"{where}.{key}", f"missing; add e.g. `{key}: {example}`")
            return ""
        return str(value).strip()

    def section(self, data: Mapping[str, Any], key: str, kind: type = dict) -> Any:
        value = data.get(key)
        if not isinstance(value, kind):
            self.fail(key, f"missing or not a {'mapping' if kind is dict else 'list'}; see the example property.yml")
            return kind()
        return value

    def raise_if_any(self) -> None:
        if self.problems:
            raise PropertyFileError(
                f"{self.path} has {len(self.problems)} problem(s):\n" + "\n".join(self.problems)
            )


def _parse_hours(raw: Any, where: str, check: _Checker) -> Optional[Tuple[time, time]]:
    if isinstance(raw, str) and raw.strip().lower() == "closed":
        return None
    match = _HOURS.match(str(raw).strip()) if raw is not None else None
    if not match:
        check.fail(where, f"{raw!r} is not an opening time; write \"09:00-17:00\" (24-hour clock) or closed")
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        check.fail(where, f"{raw!r} has an impossible hour; use 00:00 to 23:59")
        return None
    opens, closes = time(h1, m1), time(23, 59) if h2 == 24 else time(h2, m2)
    if closes <= opens:
        check.fail(where, f"{raw!r} closes before it opens; write the opening time first")
        return None
    return opens, closes


def parse_property(data: Any, path: str = DEFAULT_PATH) -> Property:
    """Builds a Property from parsed YAML, or raises PropertyFileError listing every problem."""
    check = _Checker(path)
    if not isinstance(data, Mapping):
        raise PropertyFileError(f"{path} is empty or not a YAML mapping; start from the example property.yml")
    company = check.section(data, "company")
    address = company.get("address") if isinstance(company.get("address"), Mapping) else {}
    if not address:
        check.fail("company.address", "missing; add street, city, state and zip under it")
    persona = check.section(data, "persona")
    hours_raw = check.section(data, "hours")
    maintenance = check.section(data, "maintenance")
    call_log = check.section(data, "call_log")

    tz_name = check.text(company, "timezone", "company", "America/New_York")
    timezone = ZoneInfo("UTC")
    if tz_name:
        try:
            timezone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            check.fail("company.timezone", f"{tz_name!r} is not a time zone; use e.g. America/New_York")

    hours: Dict[int, Optional[Tuple[time, time]]] = {}
    for index, day in enumerate(WEEKDAYS):
        if day not in hours_raw:
            check.fail(f"hours.{day}", 'missing; write "09:00-17:00" or closed')
            continue
        hours[index] = _parse_hours(hours_raw[day], f"hours.{day}", check)
    for unknown in set(hours_raw) - set(WEEKDAYS):
        check.fail(f"hours.{unknown}", f"not a weekday; use one of {', '.join(WEEKDAYS)}")

    holidays: Dict[date, str] = {}
    for i, item in enumerate(data.get("holidays") or []):
        when = item.get("date") if isinstance(item, Mapping) else None
        if isinstance(when, str):
            try:
                when = date.fromisoformat(when)
            except ValueError:
                when = None
        if not isinstance(when, date):
            check.fail(f"holidays[{i}].date", "missing or not a date; write e.g. 2026-12-25")
            continue
        holidays[when] = str(item.get("name") or "a holiday")

    facts: Dict[str, Fact] = {}
    for topic, item in (data.get("facts") or {}).items():
        if not isinstance(item, Mapping) or not str(item.get("answer") or "").strip():
            check.fail(f"facts.{topic}.answer", "missing; write the sentence the assistant should say")
            continue
        keywords = tuple(str(k).lower() for k in (item.get("keywords") or []))
        facts[str(topic)] = Fact(str(topic), str(item["answer"]).strip(), keywords or (str(topic).lower(),))

    categories: Dict[str, Tuple[str, ...]] = {}
    for name, words in (maintenance.get("categories") or {}).items():
        if not isinstance(words, list) or not words:
            check.fail(f"maintenance.categories.{name}", "needs a list of words, e.g. [sink, toilet]")
            continue
        categories[str(name)] = tuple(str(w).lower() for w in words)

    staff = tuple(
        str(person.get("name")).strip()
        for person in (data.get("staff") or [])
        if isinstance(person, Mapping) and person.get("name")
    )
    if not staff:
        check.fail("staff", "needs at least one person with a name, e.g. - name: Diane")

    prop = Property(
        company_name=check.text(company, "name", "company", "Port Richmond Property Management"),
        spoken_name=str(company.get("spoken_name") or company.get("name") or "").strip(),
        street=check.text(address, "street", "company.address", "31 Port Richmond Ave"),
        city=check.text(address, "city", "company.address", "Staten Island"),
        state=check.text(address, "state", "company.address", "NY"),
        zip_code=check.text(address, "zip", "company.address", '"10302"'),
        spoken_address=check.text(company, "spoken_address", "company", "thirty one Port Richmond Avenue"),
        directions=str(company.get("directions") or "").strip(),
        timezone=timezone,
        persona_name=check.text(persona, "name", "persona", "Sarah"),
        persona_manner=str(persona.get("manner") or "warm and honest").strip(),
        staff=staff,
        hours=hours,
        holidays=holidays,
        facts=facts,
        emergency_priority=check.text(maintenance, "emergency_priority", "maintenance", "Emergency"),
        normal_priority=check.text(maintenance, "normal_priority", "maintenance", "Normal"),
        default_category=check.text(maintenance, "default_category", "maintenance", "General"),
        emergency_category=check.text(maintenance, "emergency_category", "maintenance", "Emergency"),
        categories=categories,
        next_steps=check.text(maintenance, "next_steps", "maintenance", "Someone will call you within a day."),
        emergency_next_steps=check.text(
            maintenance, "emergency_next_steps", "maintenance", "I'm connecting you to our on-call person now."
        ),
        history_category=check.text(call_log, "history_category", "call_log", "Phone Call"),
        raw=dict(data),
    )
    if hours and all(value is None for value in hours.values()):
        check.fail("hours", "every day is closed; open at least one day")
    check.raise_if_any()
    return prop


def load_property(path: Optional[str] = None) -> Property:
    """Reads and checks the property file (PROPERTY_FILE, else ./property.yml)."""
    path = path or os.environ.get("PROPERTY_FILE") or DEFAULT_PATH
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise PropertyFileError(f"{path} not found; set PROPERTY_FILE or copy the example property.yml there")
    except yaml.YAMLError as exc:
        raise PropertyFileError(f"{path} is not valid YAML: {exc}")
    return parse_property(data, path)
