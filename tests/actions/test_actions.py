"""The assistant's actions against the Rent Manager stand-in over real HTTP."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

import actions.services as services_module
from actions.asking import ActionAskAccessPermission
from actions.records import call_reference
from actions.caller import ActionGreet, ActionSessionStart
from actions.emergency import ActionHandleEmergency, hazard_kind
from actions.fallback import ActionFallback
from actions.maintenance import ActionConfirmRequest, ActionCorrectRequest, ActionFileMaintenance, ValidateMaintenanceForm
from actions.office import ActionAreYouReal, ActionFileMessage, ActionGoodbye, ActionOfficeAddress, ActionOfficeHours, ActionTransfer
from actions.prospects import ActionAvailability, ActionPropertyFact
from actions.services import get_services, shutdown_services
from tests.actions.helpers import handoffs, run, slots_set, texts, tracker
from tests.conftest import StandIn

MARIA = {"caller_phone": "+17185550134", "caller_type": "tenant", "caller_first_name": "Maria", "tenant_id": 1,
         "unit_id": 8, "unit_name": "4B", "property_id": 1, "property_name": "Port Richmond Commons"}
OPEN = "2026-11-24T11:00"      # a Tuesday morning
CLOSED = "2026-11-24T20:00"    # the same evening


@pytest.fixture
async def live(standin: StandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    """The action server's services pointed at the stand-in, with a fresh outbox."""
    monkeypatch.setenv("RENT_MANAGER_BASE_URL", standin.url)
    monkeypatch.setenv("RENT_MANAGER_USERNAME", "api")
    monkeypatch.setenv("RENT_MANAGER_PASSWORD", "standin")
    monkeypatch.setenv("RENT_MANAGER_LOCATION_ID", "1")
    monkeypatch.setenv("RENT_MANAGER_TIMEOUT", "1")
    monkeypatch.setenv("OUTBOX_DB_URL", f"sqlite:///{tmp_path}/outbox.sqlite3")
    monkeypatch.setenv("OUTBOX_RETRY_BASE_SECONDS", "0.05")
    monkeypatch.setenv("TRANSFER_NUMBER", "+17184146984")
    monkeypatch.setenv("ONCALL_NUMBER", "+19175550911")
    monkeypatch.setenv("ASSISTANT_CLOCK", OPEN)
    services_module._services = None
    yield standin
    await shutdown_services()


def issues(standin: StandIn, marker: str) -> list:
    return standin.get("/ServiceManagerIssues", standin.login(), filters=f"Description,ct,{marker}",
                       embeds="Tenants,Units")


async def test_session_start_identifies_a_tenant_by_number(live: StandIn) -> None:
    state = tracker(slots={"session_started_metadata": {"caller_number": "+17185550134"}})
    events, _ = await run(ActionSessionStart(), state)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    slots = slots_set(events)
    assert slots["caller_type"] == "tenant"
    assert slots["caller_first_name"] == "Maria" and slots["unit_name"] == "4B" and slots["tenant_id"] == 1


async def test_unknown_number_is_a_prospect(live: StandIn) -> None:
    state = tracker(slots={"session_started_metadata": {"caller_number": "+13475559999"}})
    slots = slots_set((await run(ActionSessionStart(), state))[0])
    assert slots["caller_type"] == "prospect" and "tenant_id" not in slots


async def test_rent_manager_down_makes_a_prospect_not_a_dead_call(live: StandIn) -> None:
    live.fault(status=503, count=None)
    state = tracker(slots={"session_started_metadata": {"caller_number": "+17185550134"}})
    slots = slots_set((await run(ActionSessionStart(), state))[0])
    assert slots["caller_type"] == "prospect"


async def test_greeting_uses_the_first_name_once(live: StandIn) -> None:
    events, messages = await run(ActionGreet(), tracker(slots=MARIA))
    assert texts(messages)[0].startswith("Hi Maria, thanks for calling Port Richmond Property Management.")
    assert "virtual assistant" in texts(messages)[0]
    _, again = await run(ActionGreet(), tracker(slots={**MARIA, "greeted": True}))
    assert "Maria" not in texts(again)[0]


async def test_office_hours_open_and_closed(live: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    _, messages = await run(ActionOfficeHours(), tracker())
    assert texts(messages)[0].startswith("We're open right now, until five today.")
    monkeypatch.setenv("ASSISTANT_CLOCK", CLOSED)
    _, messages = await run(ActionOfficeHours(), tracker())
    assert texts(messages)[0].startswith("We're closed right now. We open tomorrow at nine.")


async def test_a_fact_is_not_repeated_word_for_word(live: StandIn) -> None:
    _, first = await run(ActionOfficeAddress(), tracker())
    said = [{"event": "bot", "text": texts(first)[0]}]
    _, second = await run(ActionOfficeAddress(), tracker(events=said))
    assert texts(first)[0] != texts(second)[0]
    assert "thirty one Port Richmond Avenue" in texts(second)[0]


async def test_are_you_real_is_honest_and_offers_a_person(live: StandIn) -> None:
    events, messages = await run(ActionAreYouReal(), tracker())
    assert "virtual assistant" in texts(messages)[0] and "Diane or Janier" in texts(messages)[0]
    assert slots_set(events)["pending_question"] == "transfer"


@pytest.mark.parametrize("text, kept", [
    ("I need to report a maintenance problem", False),
    ("um i have a repair request", False),
    ("the kitchen sink is leaking", True),
    ("my fridge stopped cooling", True),
])
def test_problem_must_say_what_is_wrong(text: str, kept: bool) -> None:
    result = ValidateMaintenanceForm().validate_problem(text, None, tracker(text), {})
    assert (result["problem"] is not None) is kept


def test_form_answers_are_validated() -> None:
    form = ValidateMaintenanceForm()
    state = tracker("yeah go ahead", "affirm", slots=MARIA)
    assert form.validate_access_permission("yeah go ahead", None, state, {}) == {"access_permission": True}
    assert form.validate_access_permission("hmm what", None, tracker("hmm what", "inform"), {}) == {"access_permission": None}
    assert form.validate_access_notes("no", None, tracker("no", "deny"), {}) == {"access_notes": "none"}
    assert form.validate_access_notes("i have a dog", None, tracker("i have a dog", "inform"), {}) == {"access_notes": "i have a dog"}
    assert form.validate_callback_number("this number", None, state, {}) == {"callback_number": "7185550134"}
    assert form.validate_callback_number("five five five", None, state, {}) == {"callback_number": None}


async def test_reasking_uses_the_next_wording(live: StandIn) -> None:
    _, first = await run(ActionAskAccessPermission(), tracker())
    _, again = await run(ActionAskAccessPermission(), tracker(events=[{"event": "bot", "text": texts(first)[0]}]))
    assert texts(first)[0].startswith("If you're not home") and texts(again)[0].startswith("Sorry, is that a yes or a no")


def request_slots(**extra) -> dict:
    slots = {**MARIA, "problem": "the kitchen sink is leaking", "location": "kitchen", "fixture": "sink",
             "access_permission": True, "access_notes": "i have a cat", "callback_number": "7185550134"}
    slots.update(extra)
    return slots


async def test_read_back_and_correction(live: StandIn) -> None:
    _, messages = await run(ActionConfirmRequest(), tracker(slots=request_slots()))
    assert texts(messages) == ["Let me read that back. The kitchen sink is leaking. That's in the kitchen of "
                               "apartment four B. The team may let themselves in. Your note for them: i have a cat. "
                               "We'll call you at 7 1 8, 5 5 5, 0 1 3 4. Is that right?"]
    state = tracker("no it's the bathroom sink", "deny", slots=request_slots(pending_question="confirm_request"),
                    entities=[{"entity": "location", "value": "bathroom"}, {"entity": "fixture", "value": "sink"}])
    events, messages = await run(ActionCorrectRequest(), state)
    assert slots_set(events)["problem"] == "the bathroom sink is leaking"
    assert "That's in the bathroom of apartment four B." in texts(messages)[0]
    events, messages = await run(ActionCorrectRequest(), tracker("no", "deny", slots=request_slots()))
    assert slots_set(events) == {"pending_question": "correction"} and "change" in texts(messages)[0]


async def test_filing_a_request_creates_a_linked_service_issue(live: StandIn) -> None:
    state = tracker("yes", "affirm", slots=request_slots(), sender_id="call-file-1")
    events, messages = await run(ActionFileMaintenance(), state)
    reference = slots_set(events)["filed_reference"]
    assert "I've recorded your request and the team will have it" in texts(messages)[0]
    [issue] = issues(live, reference)
    assert issue["Title"].startswith("the kitchen sink is leaking")
    assert issue["CategoryID"] == 1 and issue["PriorityID"] == 3  # Plumbing, Normal
    assert "Permission to enter: yes" in issue["Description"] and "i have a cat" in issue["Description"]
    assert "'TenantID': 1" in str(issue) and "'UnitID': 8" in str(issue)


async def test_filing_while_rent_manager_is_down_is_recorded_then_delivered(live: StandIn) -> None:
    live.fault(status=503, count=None)
    state = tracker("yes", "affirm", slots=request_slots(), sender_id="call-file-down")
    events, messages = await run(ActionFileMaintenance(), state)
    reference = slots_set(events)["filed_reference"]
    assert "I've recorded your request and the team will have it" in texts(messages)[0]
    outbox = get_services().outbox
    assert outbox.get(reference).status == "pending"
    live.clear_faults()
    assert await outbox.drain(timeout=20)
    assert len(issues(live, reference)) == 1


async def test_gas_emergency_is_safety_first_then_filed_then_on_call(live: StandIn) -> None:
    state = tracker("i smell gas in my kitchen", "report_emergency", slots=MARIA, sender_id="call-gas")
    events, messages = await run(ActionHandleEmergency(), state)
    said = texts(messages)
    assert said[0].startswith("Please leave the apartment right now") and "nine one one" in said[0]
    assert "emergency" in said[1]
    assert handoffs(messages) == [{"action": "transfer", "number": "+19175550911", "reason": "emergency: gas"}]
    [issue] = issues(live, call_reference(state, "EMERG"))
    assert issue["PriorityID"] == 1 and issue["CategoryID"] == 8  # Emergency, Emergency
    assert issue["Title"] == "EMERGENCY: Gas smell in unit 4B"


@pytest.mark.parametrize("text, kind", [
    ("water is pouring through my ceiling", "water"), ("the carbon monoxide alarm is going off", "co"),
    ("sparks came out of the outlet", "electrical"), ("there's smoke in the hallway", "fire"),
    ("we have no heat at all", "heat"), ("somebody broke in and the door won't lock", "security"),
])
def test_hazard_kinds(text: str, kind: str) -> None:
    assert hazard_kind(text) == kind


async def test_transfer_during_hours_hands_over(live: StandIn) -> None:
    events, messages = await run(ActionTransfer(), tracker("can i talk to someone", "request_human", slots=MARIA))
    assert slots_set(events)["office_open"] is True
    assert handoffs(messages)[0]["number"] == "+17184146984"


async def test_after_hours_takes_a_message_for_a_new_caller(live: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_CLOCK", CLOSED)
    events, messages = await run(ActionTransfer(), tracker("operator", "request_human"))
    assert slots_set(events)["office_open"] is False and not handoffs(messages)
    assert "take a message" in texts(messages)[0]
    slots = {"caller_phone": "+16465550123", "caller_type": "prospect", "contact_name": "John Rivera",
             "callback_number": "6465550123", "message_reason": "question about renewing a lease"}
    events, messages = await run(ActionFileMessage(), tracker(slots=slots, sender_id="call-msg"))
    assert "call you back at 6 4 6, 5 5 5, 0 1 2 3 when we open tomorrow at nine" in texts(messages)[0]
    outbox = get_services().outbox
    assert await outbox.drain(timeout=20)
    note = outbox.get(slots_set(events)["filed_reference"])
    prospect_id = note.payload.get("entity_id") or outbox.get(note.depends_on).record_id
    notes = live.get(f"/Prospects/{prospect_id}/HistoryNotes", live.login())
    assert any("renewing a lease" in n["Note"] for n in notes)


async def test_availability_lists_vacant_units(live: StandIn) -> None:
    events, messages = await run(ActionAvailability(), tracker("what do you have available", "ask_availability"))
    assert texts(messages)[0].startswith("Right now we have five apartments available:")
    assert slots_set(events)["pending_question"] == "tour"


async def test_property_fact_by_topic_and_by_fuzzy_word(live: StandIn) -> None:
    state = tracker("do you allow dogs", "ask_property_fact", entities=[{"entity": "topic", "value": "pets"}])
    _, messages = await run(ActionPropertyFact(), state)
    assert texts(messages)[0].startswith("Cats and small dogs")
    _, messages = await run(ActionFallback(), tracker("is there parkin", "nlu_fallback"))
    assert "parking lot" in texts(messages)[0]


async def test_fallback_offers_a_person_then_hands_over(live: StandIn) -> None:
    events, messages = await run(ActionFallback(), tracker("who won the game", "out_of_scope"))
    assert slots_set(events)["needs_transfer"] is False and "connect you" in texts(messages)[0]
    unanswered = {"failed_attempts": 1, "handled": ["asked something the assistant could not answer"]}
    events, messages = await run(ActionFallback(), tracker("order me a pizza", "out_of_scope", slots=unanswered))
    assert slots_set(events)["needs_transfer"] is True
    helped_since = {"failed_attempts": 1, "handled": ["asked something the assistant could not answer",
                                                      "asked for office hours"]}
    events, _ = await run(ActionFallback(), tracker("order me a pizza", "out_of_scope", slots=helped_since))
    assert slots_set(events)["needs_transfer"] is False, "failures count in a row"


async def test_goodbye_logs_the_call_once(live: StandIn) -> None:
    slots = {**MARIA, "handled": ["asked for office hours"]}
    state = tracker("bye", "goodbye", slots=slots, sender_id="call-log-1")
    _, messages = await run(ActionGoodbye(), state)
    assert handoffs(messages) == [{"action": "hangup", "reason": "caller said goodbye"}]
    await run(ActionGoodbye(), state)  # a second end of call must not log twice
    outbox = get_services().outbox
    assert await outbox.drain(timeout=20)
    notes = [n for n in live.get("/Tenants/1/HistoryNotes", live.login()) if call_reference(state) in n["Note"]]
    assert len(notes) == 1
    assert "asked for office hours" in notes[0]["Note"] and "tenant Maria (unit 4B)" in notes[0]["Note"]


async def test_fallback_with_a_fixture_starts_the_maintenance_form(live: StandIn) -> None:
    state = tracker("um the uh kitchen sink it's leaking", "inform", slots=MARIA,
                    entities=[{"entity": "fixture", "value": "sink"}])
    events, messages = await run(ActionFallback(), state)
    assert not messages
    assert {"event": "followup", "name": "maintenance_form"} in [
        {"event": e["event"], "name": e.get("name")} for e in events]
    assert slots_set(events)["problem"] == "the kitchen sink it's leaking"
