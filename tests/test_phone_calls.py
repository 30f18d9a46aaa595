"""Whole phone calls end to end: the call simulator (playing Twilio) against the real stack.

Rent Manager stand-in, action server and Rasa server (with the trained model and the Twilio
channel) run as processes; every request is signed as Twilio signs it. Needs a trained
model: `make test` trains before it runs pytest.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List

import httpx
import pytest

from simulator.call import CallConfig, CallRefused, SimulatedCall
from stack.__main__ import latest_model, launch
from stack.processes import Group, Process, free_port

TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC = "https://phone.example.test"
OFFICE, ONCALL = "+17184146984", "+19175550911"
OPEN, CLOSED = "2026-11-24T11:00", "2026-11-24T20:00"
MARIA = "+17185550134"


@dataclass
class Stack:
    group: Group
    env: Dict[str, str]
    rasa_url: str
    rm_url: str
    log_dir: Path

    def config(self, caller: str = MARIA, **overrides: Any) -> CallConfig:
        return CallConfig(rasa_url=self.rasa_url, public_base_url=PUBLIC, auth_token=TOKEN, caller=caller,
                          called=OFFICE, timeout=20, settle=0.3, **overrides)

    def restart_actions(self, **env: str) -> None:
        """A new action server on the same port, e.g. with another clock."""
        old = self.group.by_name()["action server"]
        old.stop()
        self.env.update(env)
        fresh = Process(old.name, old.argv, old.health_url, {**old.env, **env}, old.log_path)
        self.group.processes[self.group.processes.index(old)] = fresh
        fresh.start()
        fresh.wait_healthy(60)

    def rm(self, path: str, **params: Any) -> List[Dict[str, Any]]:
        token = httpx.post(f"{self.rm_url}/Authentication/AuthorizeUser",
                           json={"Username": "api", "Password": "standin", "LocationID": 1}).json()
        response = httpx.get(f"{self.rm_url}{path}", params=params, headers={"X-RM12Api-ApiToken": token})
        return [] if response.status_code == 204 else response.json()

    def tracker(self, call_sid: str) -> Dict[str, Any]:
        return httpx.get(f"{self.rasa_url}/conversations/{call_sid}/tracker").json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = latest_model()
    if not model:
        pytest.fail("no trained model in models/: run `make train` (make test does) before these tests")
    tmp = tmp_path_factory.mktemp("phone")
    env = {"RASA_PORT": str(free_port()), "ACTION_PORT": str(free_port()),
           "RENT_MANAGER_STANDIN_PORT": str(free_port())}
    extra = {"TWILIO_AUTH_TOKEN": TOKEN, "PUBLIC_BASE_URL": PUBLIC, "TRANSFER_NUMBER": OFFICE,
             "ONCALL_NUMBER": ONCALL, "TWILIO_SILENCE_SECONDS": "1.5", "ASSISTANT_CLOCK": OPEN,
             "OUTBOX_DB_URL": f"sqlite:///{tmp}/outbox.sqlite3", "RENT_MANAGER_STANDIN_DB": f"{tmp}/rm.sqlite3",
             "OUTBOX_RETRY_BASE_SECONDS": "0.2"}
    group = launch(env, tmp, model, extra)
    rasa_url = group.by_name()["Rasa server"].base_url
    yield Stack(group, {**env, **extra}, rasa_url, group.by_name()["Rent Manager stand-in"].base_url, tmp)
    group.stop()


@pytest.fixture
async def office_open(stack: Stack) -> AsyncIterator[Stack]:
    if stack.env.get("ASSISTANT_CLOCK") != OPEN or not _alive(stack, "action server"):
        stack.restart_actions(ASSISTANT_CLOCK=OPEN)
    yield stack


def _alive(stack: Stack, name: str) -> bool:
    popen = stack.group.by_name()[name].popen
    return popen is not None and popen.poll() is None


def issues_after(stack: Stack, before: int) -> List[Dict[str, Any]]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        found = [i for i in stack.rm("/ServiceManagerIssues", pagesize=1000) if i["ServiceManagerIssueID"] > before]
        if found:
            return found
        time.sleep(0.3)
    return []


def last_issue_id(stack: Stack) -> int:
    return max((i["ServiceManagerIssueID"] for i in stack.rm("/ServiceManagerIssues", pagesize=1000)), default=0)


async def test_a_tenant_reports_a_leak_and_it_is_filed(office_open: Stack) -> None:
    before = last_issue_id(office_open)
    async with SimulatedCall(office_open.config()) as call:
        greeting = await call.start()
        assert "Hi Maria" in greeting.text
        assert (await call.say("um my kitchen sink is leaking")).text.startswith("If you're not home")
        await call.say("yeah that's fine")
        await call.say("no pets")
        confirm = await call.say("you can call me at this number")
        assert "Let me read that back" in confirm.text and "apartment four B" in confirm.text
        done = await call.say("yes that's right")
        assert "recorded your request" in done.text and done.first_ms is not None
        await call.hangup()
    [issue] = issues_after(office_open, before)
    assert issue["PriorityID"] == 3 and "sink" in issue["Title"].lower()


async def test_an_emergency_is_filed_and_dialled_to_on_call(office_open: Stack) -> None:
    before = last_issue_id(office_open)
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        reply = await call.say("i smell gas in my kitchen")
        assert reply.text.startswith("Please leave the apartment right now")
        assert reply.end == "transfer" and reply.dial is not None
        assert reply.dial.number == ONCALL and reply.dial.caller_id == OFFICE and reply.dial.timeout
        await call.hangup()
    issues = issues_after(office_open, before)
    assert [i["PriorityID"] for i in issues] == [1]


async def test_a_caller_asks_for_a_person(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        reply = await call.say("can i talk to a real person please")
        assert reply.end == "transfer" and reply.dial.number == OFFICE
        await call.hangup()


async def test_keypad_zero_is_a_person(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        reply = await call.dtmf("0")
        assert reply.end == "transfer" and reply.dial.number == OFFICE


async def test_keypad_digits_give_a_callback_number(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config(caller="+13475550100")) as call:
        await call.start()
        await call.say("i want to schedule a tour of an apartment")
        await call.say("my name is ana lopez")
        reply = await call.keys("3475550111")
        assert "3 4 7, 5 5 5, 0 1 1 1" in reply.text


async def test_an_interrupt_is_recorded_and_the_call_goes_on(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        await call.interrupt("Hi Maria, thanks for")
        reply = await call.say("what are your hours")
        assert "We're open right now" in reply.text
        events = office_open.tracker(call.call_sid)["events"]
        heard = [e for e in events if e.get("event") == "slot" and e.get("name") == "heard_before_interrupt"]
        assert heard and heard[-1]["value"] == "Hi Maria, thanks for"


async def test_two_silences_end_the_call(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        first = await call.silence(2.5)
        assert "still there" in first.text.lower()
        second = await call.silence(2.5)
        assert "goodbye" in second.text.lower() and second.end == "hangup"


async def test_junk_frames_do_not_end_the_call(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        for kind in ("malformed_json", "unknown_type", "missing_type", "oversized", "empty", "binary"):
            junk = await call.junk(kind)
            assert not junk.closed and not junk.text, kind
            reply = await call.say("where is your office")
            assert "Port Richmond Avenue" in reply.text, kind


async def test_a_bad_signature_is_refused_before_rasa(office_open: Stack) -> None:
    config = office_open.config()
    config.auth_token = "not-the-token"
    call = SimulatedCall(config)
    with pytest.raises(CallRefused):
        await call.start()
    # Nothing the caller said reached the assistant (Rasa's API shows an empty conversation).
    assert [e for e in office_open.tracker(call.call_sid)["events"] if e["event"] in ("user", "bot")] == []
    # The relay upgrade itself is refused with 403 before the WebSocket opens.
    import websockets.client
    from websockets.exceptions import InvalidStatusCode

    ws_url = office_open.rasa_url.replace("http://", "ws://") + "/webhooks/twilio/relay"
    with pytest.raises(InvalidStatusCode) as refused:
        await websockets.client.connect(ws_url, extra_headers={"X-Twilio-Signature": "bogus"})
    assert refused.value.status_code == 403


async def test_after_hours_the_assistant_takes_a_message(office_open: Stack) -> None:
    office_open.restart_actions(ASSISTANT_CLOCK=CLOSED)
    async with SimulatedCall(office_open.config(caller="+16465550123")) as call:
        await call.start()
        reply = await call.say("i need to speak with someone in the office")
        assert "closed right now" in reply.text and "take a message" in reply.text and not reply.end
        await call.say("my name is john rivera")
        await call.say("six four six five five five oh one two three")
        done = await call.say("please call me about renewing my lease")
        assert "passed your message to the office" in done.text
        await call.hangup()
    deadline = time.monotonic() + 10
    notes: List[Dict[str, Any]] = []
    while time.monotonic() < deadline and not notes:
        notes = [n for n in office_open.rm("/HistoryNotes", pagesize=1000) if "renewing my lease" in n["Note"]]
        time.sleep(0.3)
    assert notes and notes[0]["EntityType"] == "Prospect"
    office_open.restart_actions(ASSISTANT_CLOCK=OPEN)


async def test_gather_mode_carries_the_same_conversation(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config(gather=True)) as call:
        greeting = await call.start()
        assert "Hi Maria" in greeting.text
        reply = await call.say("what are your hours")
        assert "We're open right now" in reply.text
        first = await call.silence(0)
        second = await call.silence(0)
        third = await call.silence(0)
        assert "still there" in first.text.lower() and "still there" in second.text.lower()
        assert "goodbye" in third.text.lower() and third.end == "hangup"


async def test_the_action_server_failing_mid_call_means_an_apology_and_a_transfer(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config()) as call:
        await call.start()
        office_open.group.by_name()["action server"].kill()
        reply = await call.say("what are your hours")
        assert "having trouble on my end" in reply.text
        assert reply.end == "transfer" and reply.dial.number == OFFICE
    office_open.restart_actions()


async def test_the_call_is_logged_when_the_caller_hangs_up(office_open: Stack) -> None:
    async with SimulatedCall(office_open.config(caller="+17185550141")) as call:
        await call.start()
        await call.say("what are your hours")
        await call.hangup()
    deadline = time.monotonic() + 10
    logged: List[Dict[str, Any]] = []
    while time.monotonic() < deadline and not logged:
        logged = [n for n in office_open.rm("/Tenants/2/HistoryNotes") if "asked for office hours" in n["Note"]]
        time.sleep(0.3)
    assert len(logged) == 1


async def test_a_transfer_nobody_answers_comes_back_for_a_message(office_open: Stack) -> None:
    from simulator.signing import signature_headers

    params = {"CallSid": "CA" + "7" * 32, "DialCallStatus": "no-answer", "From": MARIA, "To": OFFICE}
    url = f"{PUBLIC}/webhooks/twilio/dial-result"
    response = httpx.post(f"{office_open.rasa_url}/webhooks/twilio/dial-result", data=params,
                          headers=signature_headers(TOKEN, url, params))
    assert response.status_code == 200
    assert "<ConversationRelay" in response.text and '<Parameter name="transfer_failed" value="1" />' in response.text


async def test_with_the_llm_out_of_quota_a_whole_call_works_unchanged(office_open: Stack) -> None:
    port = free_port()
    llm = Process("openai", [sys.executable, "-m", "standins.openai", "--port", str(port)],
                  f"http://127.0.0.1:{port}/_standin/health", log_path=str(office_open.log_dir / "openai.log"))
    llm.start()
    try:
        llm.wait_healthy(30)
        httpx.post(f"http://127.0.0.1:{port}/_standin/faults", json={"mode": "insufficient_quota", "count": None})
        office_open.restart_actions(OPENAI_API_KEY="sk-standin", OPENAI_BASE_URL=f"http://127.0.0.1:{port}/v1")
        before = last_issue_id(office_open)
        async with SimulatedCall(office_open.config()) as call:
            assert "Hi Maria" in (await call.start()).text
            first = await call.say("who won the game last night")
            assert "connect you with" in first.text  # the deterministic offer, not dead air
            assert (await call.say("no thanks")).text
            await call.say("my bathroom toilet keeps running")
            await call.say("yes you can go in")
            await call.say("no")
            await call.say("this number is fine")
            assert "recorded your request" in (await call.say("yes")).text
            assert "We're open right now" in (await call.say("what are your hours")).text
            calls_to_llm = len(httpx.get(f"http://127.0.0.1:{port}/_standin/requests").json()["requests"])
            await call.say("do you know a good dentist")
            status = httpx.get(office_open.group.by_name()["action server"].base_url + "/status").json()
            assert status["llm"]["state"] == "quota_exhausted"
            reply = await call.say("can i talk to someone")
            assert reply.end == "transfer" and reply.dial.number == OFFICE
        assert calls_to_llm == 1, "one call hit the quota; the breaker kept the rest away"
        assert len(httpx.get(f"http://127.0.0.1:{port}/_standin/requests").json()["requests"]) == calls_to_llm
        assert issues_after(office_open, before)
    finally:
        llm.stop()
        office_open.restart_actions(OPENAI_API_KEY="", OPENAI_BASE_URL="")


def test_rasa_says_how_long_it_took_in_server_timing(stack: Stack) -> None:
    response = httpx.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": "server-timing-test", "message": "what are your hours"}, timeout=30)
    assert response.status_code == 200 and response.json()
    name, _, duration = response.headers["Server-Timing"].partition(";dur=")
    assert name == "app" and 0 < float(duration) < 30_000
