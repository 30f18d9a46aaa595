"""Office hours at chosen instants, in the office's time zone."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from actions.hours import hours_summary, office_status
from actions.property import load_property

NY = ZoneInfo("America/New_York")


@pytest.fixture(scope="module")
def prop():
    return load_property("property.yml")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_weekday_open(prop) -> None:
    now = datetime(2026, 11, 24, 11, 30, tzinfo=NY)  # Tuesday
    status = office_status(prop, now)
    assert status.is_open
    assert status.sentence(now) == "We're open right now, until five today."


def test_weekday_before_opening_opens_today(prop) -> None:
    now = datetime(2026, 11, 24, 7, 45, tzinfo=NY)
    status = office_status(prop, now)
    assert not status.is_open
    assert status.sentence(now) == "We're closed right now. We open today at nine."


def test_weekday_evening_opens_tomorrow(prop) -> None:
    now = datetime(2026, 11, 24, 17, 0, tzinfo=NY)  # closing time itself is closed
    assert office_status(prop, now).sentence(now) == "We're closed right now. We open tomorrow at nine."


def test_saturday_short_hours(prop) -> None:
    now = datetime(2026, 11, 28, 13, 0, tzinfo=NY)
    assert office_status(prop, now).sentence(now) == "We're open right now, until two today."


def test_sunday_closed_opens_monday(prop) -> None:
    now = datetime(2026, 11, 29, 12, 0, tzinfo=NY)
    assert office_status(prop, now).sentence(now) == "We're closed right now. We open tomorrow at nine."
    saturday_evening = datetime(2026, 11, 28, 15, 0, tzinfo=NY)
    assert office_status(prop, saturday_evening).sentence(saturday_evening) == (
        "We're closed right now. We open Monday at nine."
    )


def test_holiday_is_closed_all_day(prop) -> None:
    now = datetime(2026, 11, 26, 11, 0, tzinfo=NY)  # Thanksgiving, a Thursday
    status = office_status(prop, now)
    assert not status.is_open and status.holiday == "Thanksgiving"
    assert status.sentence(now) == "We're closed today for Thanksgiving. We open tomorrow at nine."


def test_christmas_eve_evening_skips_the_holiday(prop) -> None:
    now = datetime(2026, 12, 24, 18, 0, tzinfo=NY)  # Thursday; Friday is Christmas
    assert office_status(prop, now).sentence(now) == "We're closed right now. We open Saturday at ten."


@pytest.mark.parametrize(
    "instant, is_open",
    [
        (utc(2026, 10, 30, 13, 0), True),    # Friday 09:00 EDT (UTC-4), before DST ends
        (utc(2026, 10, 30, 12, 59), False),  # 08:59 EDT
        (utc(2026, 11, 2, 13, 59), False),   # Monday 08:59 EST (UTC-5), after DST ended Nov 1
        (utc(2026, 11, 2, 14, 0), True),     # 09:00 EST
        (utc(2026, 11, 2, 21, 59), True),    # 16:59 EST
        (utc(2026, 11, 2, 22, 0), False),    # 17:00 EST
        (utc(2027, 3, 12, 13, 59), False),   # Friday 08:59 EST, before DST starts Mar 14
        (utc(2027, 3, 15, 13, 0), True),     # Monday 09:00 EDT, after
        (utc(2027, 3, 15, 12, 59), False),   # 08:59 EDT
    ],
)
def test_both_sides_of_daylight_saving_changes(prop, instant: datetime, is_open: bool) -> None:
    assert office_status(prop, instant).is_open is is_open


def test_far_closure_names_the_date(prop) -> None:
    from dataclasses import replace

    closed_week = {day: None for day in range(7)}
    closed_week[0] = prop.hours[0]
    sparse = replace(prop, hours=closed_week, holidays={date(2026, 11, 30): "Staff day"})
    now = datetime(2026, 11, 24, 12, 0, tzinfo=NY)  # Tuesday; next Monday is a holiday
    assert office_status(sparse, now).sentence(now) == (
        "We're closed right now. We open on Monday, December seventh at nine."
    )


def test_naive_datetime_is_refused(prop) -> None:
    with pytest.raises(ValueError):
        office_status(prop, datetime(2026, 11, 24, 12, 0))


def test_hours_summary(prop) -> None:
    assert hours_summary(prop) == "Monday to Friday nine to five, Saturday ten to two, closed Sunday."
