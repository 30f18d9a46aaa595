"""The domain, the actions and the data agree with each other (what Rasa's validator cannot see)."""
from __future__ import annotations

import re
from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

DOMAIN = yaml.safe_load(Path("domain.yml").read_text())
ACTION_SOURCE = "\n".join(p.read_text() for p in Path("actions").rglob("*.py"))
DATA_SOURCE = "\n".join(p.read_text() for p in Path("data").rglob("*.yml"))


def test_every_custom_action_in_the_domain_is_implemented() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    registered = set(executor.actions)
    declared = set(DOMAIN["actions"])
    assert declared - registered == set(), "declared in domain.yml but no action class"
    assert registered - declared == set(), "action classes missing from domain.yml"


def test_every_response_an_action_speaks_exists() -> None:
    spoken = set(re.findall(r'"(utter_[a-z_]+)"', ACTION_SOURCE))
    assert spoken, "expected the actions to speak domain responses"
    assert spoken - set(DOMAIN["responses"]) == set()


def test_every_response_is_spoken_somewhere() -> None:
    forms_ask = {f"utter_ask_{slot}" for form in DOMAIN["forms"].values() for slot in form["required_slots"]}
    used = set(re.findall(r"utter_[a-z_]+", ACTION_SOURCE + DATA_SOURCE)) | forms_ask
    assert set(DOMAIN["responses"]) - used == set(), "responses nothing says: remove them or use them"


def test_forms_ask_every_slot_they_require() -> None:
    for form in DOMAIN["forms"].values():
        for slot in form["required_slots"]:
            assert f"utter_ask_{slot}" in DOMAIN["responses"], slot
            assert f"action_ask_{slot}" in DOMAIN["actions"], f"{slot} would be asked with a random wording"


def test_no_markdown_or_emoji_in_responses() -> None:
    for name, variations in DOMAIN["responses"].items():
        for variation in variations:
            text = re.sub(r"\{[a-z_]+\}", "", variation.get("text", ""))
            assert not re.search(r"[*_`#]|[\U0001F000-\U0001FAFF]", text), name
            assert not re.search(r"\d", text), f"{name}: write numbers as words for the voice"
