"""The cached validation of action server responses accepts and refuses exactly as Rasa's own."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError, validate
from rasa.core.actions.action import RemoteAction

from channels.rasa_bridge import cache_action_response_validation

GOOD = {"events": [{"event": "slot", "name": "office_open", "value": True}],
        "responses": [{"text": "We're open right now."}]}
BAD = [
    {"events": [{"event": "no_such_event"}]},
    {"events": "not a list"},
    {"events": [{"event": "slot"}]},
    {"events": [{"name": "x"}]},
]


def test_same_verdicts_as_rasa() -> None:
    spec = RemoteAction.action_response_format_spec()
    cache_action_response_validation()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result(GOOD) is True
    validate(GOOD, spec)
    for bad in BAD:
        with pytest.raises(ValidationError) as ours:
            action._validate_action_result(bad)
        with pytest.raises(ValidationError):
            validate(bad, spec)
        assert "Failed to validate Action server response" in ours.value.message
