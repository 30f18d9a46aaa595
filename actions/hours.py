"""Is the office open, and if not, when does it open? In the office's own time zone.

Pure functions of the property file and an instant, so tests can ask about any moment:
a weekday, a weekend, a holiday, either side of a daylight-saving change.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, time
from typing import Optional

from actions.property import Property
from actions.speech import spoken_date, spoken_time, weekday_name


@dataclass(frozen=True)
class OfficeStatus:
    is_open: bool
    closes_at: Optional[datetime]  # when open
    opens_at: Optional[datetime]  # when closed: the next opening
    holiday: Optional[str]  # the holiday that closes it today, if any

    def sentence(self, now: datetime) -> str:
        """"We're open now until five." / "We're closed right now. We open Monday at nine." """
        if self.is_open and self.closes_at:
            return f"We're open right now, until {spoken_time(self.closes_at.time())} today."
        reason = f"We're closed today for {self.holiday}." if self.holiday else "We're closed right now."
        if not self.opens_at:
            return reason
        return f"{reason} We open {when_words(self.opens_at, now)}."


def when_words(moment: datetime, now: datetime) -> str:
    """"today at nine", "tomorrow at nine", "Monday at nine", "on Friday, December twenty sixth at nine"."""
    at = f"at {spoken_time(moment.time())}"
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"today {at}"
    if days == 1:
        return f"tomorrow {at}"
    if days < 7:
        return f"{weekday_name(moment.date())} {at}"
    return f"on {spoken_date(moment.date())} {at}"


def office_status(prop: Property, now: datetime) -> OfficeStatus:
    """The office's state at `now` (any time zone; compared in the office's)."""
    if now.tzinfo is None:
        raise ValueError("office_status needs an aware datetime (with a time zone)")
    local = now.astimezone(prop.timezone)
    today = local.date()
    holiday = prop.holidays.get(today)
    hours = prop.hours.get(today.weekday())
    if not holiday and hours:
        opens, closes = (_at(local, t, prop) for t in hours)
        if opens <= local < closes:
            return OfficeStatus(True, closes, None, None)
        if local < opens:
            return OfficeStatus(False, None, opens, None)
    return OfficeStatus(False, None, next_opening(prop, local), holiday)


def next_opening(prop: Property, local: datetime) -> Optional[datetime]:
    """The first opening after today, skipping closed days and holidays (within 60 days)."""
    for offset in range(1, 61):
        day = local.date() + timedelta(days=offset)
        hours = prop.hours.get(day.weekday())
        if hours and day not in prop.holidays:
            return datetime.combine(day, hours[0], tzinfo=prop.timezone)
    return None


def _at(local: datetime, t: time, prop: Property) -> datetime:
    return datetime.combine(local.date(), t, tzinfo=prop.timezone)


def hours_summary(prop: Property) -> str:
    """"Monday to Friday nine to five, Saturday ten to two, closed Sunday." """
    days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    groups: list = []
    for index, name in enumerate(days):
        hours = prop.hours.get(index)
        if groups and groups[-1][2] == hours:
            groups[-1][1] = name
        else:
            groups.append([name, name, hours])
    parts = []
    for first, last, hours in groups:
        span = first if first == last else f"{first} to {last}"
        if hours:
            parts.append(f"{span} {spoken_time(hours[0])} to {spoken_time(hours[1])}")
        else:
            parts.append(f"closed {span}")
    return ", ".join(parts) + "."
