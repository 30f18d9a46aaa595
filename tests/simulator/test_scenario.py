"""Scenario files: loading, the messages for mistakes, expectations, and the Rent Manager checks."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict

import httpx
import pytest
import yaml

from simulator.call import Reply
from simulator.scenario import (
    IssueExpectation, RentManagerCheck, ScenarioError, Step, check_reply, expand, heard, issue_matches,
    load_scenario, parse_scenario, scenario_files,
)
from tests.conftest import StandIn

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"


def test_the_example_scenarios_load() -> None:
    files = scenario_files([SCENARIOS])
    names = {path.stem for path in files}
    assert {"tenant_maintenance", "emergency", "after_hours_message", "keypad_transfer",
            "prospect_availability"} <= names
    for path in files:
        scenario = load_scenario(path, environ={})
        assert scenario.steps and scenario.name and scenario.greeting is not None, path
        assert path.read_text().startswith("#"), f"{path} needs its header comment"
    emergency = load_scenario(SCENARIOS / "emergency.yml", environ={})
    assert emergency.outcome.end == "transfer" and emergency.outcome.dial == "+17184146984"
    assert emergency.outcome.issue == IssueExpectation(priority="Emergency")
    oncall = load_scenario(SCENARIOS / "emergency.yml", environ={"ONCALL_NUMBER": "+19175550911"})
    assert oncall.outcome.dial == "+19175550911"


def test_the_docstring_example_is_a_valid_scenario() -> None:
    import simulator.scenario as module

    example = module.__doc__.split("```yaml")[1].split("```")[0]
    scenario = parse_scenario(yaml.safe_load(example), environ={})
    assert [step.action for step in scenario.steps] == \
        [None, "say", "say", "dtmf", "interrupt", "silence", "junk", "hangup"]
    assert scenario.steps[1].expect == ("let themselves in",)
    assert scenario.steps[2].expect == (("pets", "anything else"),) and scenario.steps[2].expect_not == ("sorry",)


def test_a_full_scenario_parses() -> None:
    scenario = parse_scenario({
        "name": "leak", "caller": "+17185550134", "mode": "gather", "timeout": 20,
        "steps": [
            {"expect": "Maria"},
            {"say": "my sink", "expect": ["let themselves in", ["pets", "anything else"]], "expect_not": "sorry",
             "max_first_ms": 1500, "max_ms": 4000, "timeout": 30},
            {"dtmf": 0},
            {"silence": 6.5, "expect": ["still there"]},
            {"hangup": True},
        ],
        "outcome": {"end": "none", "no_issue": True, "wait": 2},
    }, environ={})
    greeting, say, dtmf, silence, hangup = scenario.steps
    assert greeting.action is None and greeting.expect == ("Maria",)
    assert say.expect == ("let themselves in", ("pets", "anything else")) and say.expect_not == ("sorry",)
    assert (say.max_first_ms, say.max_ms, say.timeout) == (1500, 4000, 30)
    assert dtmf.value == "0" and silence.value == 6.5 and hangup.action == "hangup"
    assert scenario.outcome.end == "none" and scenario.outcome.no_issue and scenario.outcome.wait == 2
    assert scenario.mode == "gather" and scenario.timeout == 20 and len(scenario.actions) == 4


@pytest.mark.parametrize("raw, message", [
    ([], "a scenario is a mapping"),
    ({"steps": []}, "`steps:` must be a non-empty list"),
    ({"stepz": [{"say": "hi"}]}, "unknown key(s) stepz"),
    ({"steps": [{"say": "hi"}, "dtmf 0"]}, "step 2: a step is a mapping"),
    ({"steps": [{"say": "hi"}, {"say": "a", "dtmf": "0"}]}, "step 2: one action per step, found say and dtmf"),
    ({"steps": [{"say": "hi"}, {"expect": ["x"]}]}, "step 2: no action"),
    ({"steps": [{"say": ""}]}, "step 1: `say` needs the caller's words"),
    ({"steps": [{"say": "hi"}, {"say": "a"}, {"dtmf": "12"}]}, "step 3: `dtmf` is one key"),
    ({"steps": [{"dtmf": "A"}]}, "step 1: `dtmf` is one key"),
    ({"steps": [{"silence": "long"}]}, "step 1: `silence` is a number of seconds"),
    ({"steps": [{"silence": 0}]}, "step 1: `silence` is a number of seconds"),
    ({"steps": [{"junk": "garbage"}]}, "step 1: `junk` is one of malformed_json"),
    ({"steps": [{"hangup": "yes"}]}, "step 1: write `hangup: true`"),
    ({"steps": [{"hangup": True}, {"say": "hi"}]}, "step 1: `hangup` must be the last step"),
    ({"steps": [{"say": "hi", "expext": ["x"]}]}, "step 1: unknown key(s) expext"),
    ({"steps": [{"say": "hi", "expect": [3]}]}, "step 1: `expect`: each entry is a non-empty phrase"),
    ({"steps": [{"say": "hi", "expect": [[]]}]}, "step 1: `expect`: each entry"),
    ({"steps": [{"say": "hi", "expect_not": [["a", "b"]]}]}, "step 1: `expect_not`: each entry is a non-empty phrase,"),
    ({"steps": [{"say": "hi", "no_reply": True, "expect": "x"}]}, "`no_reply` and `expect` contradict"),
    ({"steps": [{"say": "hi", "max_ms": -1}]}, "step 1: max_ms must be a positive number"),
    ({"steps": [{"say": "hi"}], "mode": "sms"}, "mode must be relay or gather"),
    ({"steps": [{"say": "hi"}], "outcome": {"end": "voicemail"}}, "outcome: end is one of transfer, hangup, none"),
    ({"steps": [{"say": "hi"}], "outcome": {"end": "hangup", "dial": "+1"}}, "needs end: transfer"),
    ({"steps": [{"say": "hi"}], "outcome": {"issue": {"priority": "Emergency", "urgent": True}}},
     "issue: unknown key(s) urgent"),
    ({"steps": [{"say": "hi"}], "outcome": {"issue": {"priority": "x"}, "no_issue": True}}, "contradict"),
    ({"steps": [{"say": "hi"}], "outcome": {"filed": True}}, "outcome: unknown key(s) filed"),
])
def test_mistakes_are_named(raw: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(raw, source="scenarios/x.yml", environ={})
    assert message in str(caught.value) and str(caught.value).startswith("scenarios/x.yml: ")


def test_bad_files(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("steps:\n  - say: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(broken)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.yml")


def test_dial_implies_transfer_and_variables_expand() -> None:
    scenario = parse_scenario({"steps": [{"say": "gas"}], "outcome": {"dial": "${ONCALL:-${TRANSFER:-+1718}}"}},
                              environ={"TRANSFER": "+1917"})
    assert scenario.outcome.end == "transfer" and scenario.outcome.dial == "+1917"
    assert expand("${A:-${B:-x}}", {}) == "x" and expand("${A}", {"A": "1"}) == "1" and expand("$A", {}) == "$A"


# -- expectations ------------------------------------------------------------------------------


def reply(text: str = "", **fields: Any) -> Reply:
    values: Dict[str, Any] = dict(action="say", tokens=[text] if text else [], complete=True,
                                  first_ms=100.0, last_ms=300.0)
    values.update(fields)
    return Reply(**values)


def test_heard_ignores_case_punctuation_and_quotes() -> None:
    text = "If you\u2019re not home, may our maintenance team let themselves in to fix it?"
    assert heard(text, "if you're not HOME") and heard(text, "let themselves in")
    assert heard("Hi Maria, thanks", "hi maria") and not heard("Hi Marianne", "maria")
    assert not heard(text, "let them in")


def test_check_reply() -> None:
    step = Step(index=2, action="say", value="x", expect=("let themselves in", ("pets", "anything else")),
                expect_not=("sorry",))
    assert check_reply(step, reply("May the team let themselves in? Any pets?")) == []
    failures = check_reply(step, reply("Sorry, I didn't get that."))
    assert failures == [
        'expected "let themselves in"; heard "Sorry, I didn\'t get that."',
        'expected one of "pets", "anything else"; heard "Sorry, I didn\'t get that."',
        'did not expect "sorry"; heard "Sorry, I didn\'t get that."',
    ]
    assert check_reply(Step(index=1, action=None, expect=("Maria",)), reply()) == ['expected "Maria"; heard nothing']


def test_check_reply_counts_twiml_says_and_a_resumed_relay() -> None:
    step = Step(index=3, action="say", value="x", expect=("goodbye", "welcome back"))
    resumed = reply("Welcome back!")
    assert check_reply(step, reply("", says=["Goodbye."], resumed=resumed)) == []


def test_protocol_problems_always_fail() -> None:
    step = Step(index=4, action="say", value="x")
    assert "never ended" in check_reply(step, reply("half", complete=False, timed_out=True))[0]
    assert "invalid frame" in check_reply(step, reply("ok", invalid=["not JSON"]))[0]
    assert "closed without" in check_reply(step, reply(closed="the relay closed without an end frame"))[0]
    assert "not delivered" in check_reply(step, reply(undelivered="no dtmfDetection"))[0]
    junk = Step(index=5, action="junk", value="oversized")
    assert "did not go on" in check_reply(junk, reply(end="hangup"))[0]
    quiet = Step(index=6, action="interrupt", value="If", no_reply=True)
    assert check_reply(quiet, reply()) == [] and "expected no reply" in check_reply(quiet, reply("Hm?"))[0]


def test_latency_budgets() -> None:
    step = Step(index=2, action="say", value="x", max_first_ms=150, max_ms=250)
    assert check_reply(step, reply("ok", first_ms=100.0, last_ms=200.0)) == []
    assert check_reply(step, reply("ok", first_ms=180.0, last_ms=400.0)) == [
        "first text after 180 ms; the budget is 150 ms", "whole reply after 400 ms; the budget is 250 ms"]
    assert "first text after never" in check_reply(step, reply(first_ms=None, last_ms=None, complete=False))[0]


# -- Rent Manager (the real stand-in, over HTTP) ----------------------------------------------


async def test_rentmanager_check_sees_what_was_filed_after_the_baseline(standin: StandIn) -> None:
    check = RentManagerCheck(standin.url, "api", "standin", 1)
    try:
        before = await check.baseline()
        assert before.issue_id > 0 and before.history_id > 0
        assert await check.new_issues(before.issue_id) == []
        token = standin.login()
        marker = f"gas-{time.time_ns()}"
        filed = httpx.post(f"{standin.url}/ServiceManagerIssues", headers={"X-RM12Api-ApiToken": token},
                           json=[{"Title": "EMERGENCY: Gas smell in unit 4B", "Description": marker,
                                  "CategoryID": 8, "PriorityID": 1}], timeout=10)
        filed.raise_for_status()
        httpx.post(f"{standin.url}/Tenants/1/HistoryNotes", headers={"X-RM12Api-ApiToken": token},
                   json=[{"HistoryCategoryID": 4, "HistoryDate": "2026-11-28", "Note": f"Message taken {marker}"}],
                   timeout=10).raise_for_status()
        issues = await check.new_issues(before.issue_id)
        assert [issue["Description"] for issue in issues] == [marker]
        assert issues[0]["PriorityName"] == "Emergency" and issues[0]["CategoryName"] == "Emergency"
        assert issue_matches(issues[0], IssueExpectation(priority="emergency", category="Emergency", text="gas smell"))
        assert not issue_matches(issues[0], IssueExpectation(priority="Normal"))
        notes = await check.new_history(before.history_id)
        assert [note["Note"] for note in notes] == [f"Message taken {marker}"]
        after = await check.baseline()
        assert after.issue_id == issues[0]["ServiceManagerIssueID"]
    finally:
        await check.aclose()


async def test_rentmanager_check_names_a_bad_login(standin: StandIn) -> None:
    from simulator.scenario import SetupError

    check = RentManagerCheck(standin.url, "api", "wrong", 1)
    try:
        with pytest.raises(SetupError, match="refused the login 'api'"):
            await check.baseline()
    finally:
        await check.aclose()
