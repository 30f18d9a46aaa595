"""The property file: a wrong one stops start-up with a message naming the field and the fix."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from actions.property import PropertyFileError, load_property, parse_property


@pytest.fixture(scope="module")
def good() -> dict:
    return yaml.safe_load(Path("property.yml").read_text())


def test_the_shipped_file_loads(good: dict) -> None:
    prop = parse_property(good)
    assert prop.persona_name == "Sarah"
    assert prop.staff_names == "Diane or Janier"
    assert "pets" in prop.facts and prop.facts["pets"].answer
    assert prop.category_for("sink", None) == "Plumbing"
    assert prop.category_for(None, "the radiator is banging") == "Heating/HVAC"
    assert prop.category_for(None, "a strange noise") == "General"


def broken(good: dict, mutate) -> str:
    data = copy.deepcopy(good)
    mutate(data)
    with pytest.raises(PropertyFileError) as caught:
        parse_property(data, "property.yml")
    return str(caught.value)


def test_bad_hour_names_the_day_and_the_fix(good: dict) -> None:
    message = broken(good, lambda d: d["hours"].update(monday="9am-5pm"))
    assert "hours.monday" in message and '"09:00-17:00"' in message


def test_closing_before_opening(good: dict) -> None:
    assert "closes before it opens" in broken(good, lambda d: d["hours"].update(friday="17:00-09:00"))


def test_impossible_hour(good: dict) -> None:
    assert "impossible hour" in broken(good, lambda d: d["hours"].update(friday="09:00-25:00"))


def test_missing_day(good: dict) -> None:
    assert "hours.sunday: missing" in broken(good, lambda d: d["hours"].pop("sunday"))


def test_missing_persona_name(good: dict) -> None:
    message = broken(good, lambda d: d["persona"].pop("name"))
    assert "persona.name" in message and "Sarah" in message


def test_bad_timezone(good: dict) -> None:
    assert "company.timezone" in broken(good, lambda d: d["company"].update(timezone="Mars/Olympus"))


def test_bad_holiday_date(good: dict) -> None:
    assert "holidays[0].date" in broken(good, lambda d: d["holidays"][0].update(date="Christmas"))


def test_fact_without_answer(good: dict) -> None:
    assert "facts.pets.answer" in broken(good, lambda d: d["facts"]["pets"].pop("answer"))


def test_every_problem_is_listed_at_once(good: dict) -> None:
    def two(d: dict) -> None:
        d["hours"]["monday"] = "nine"
        d["company"].pop("name")
    message = broken(good, two)
    assert "2 problem(s)" in message


def test_missing_file_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(PropertyFileError, match="not found"):
        load_property(str(tmp_path / "nope.yml"))
    bad = tmp_path / "bad.yml"
    bad.write_text("company: [unclosed")
    with pytest.raises(PropertyFileError, match="not valid YAML"):
        load_property(str(bad))
