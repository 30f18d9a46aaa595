"""The EmergencyMatcher safety net: real Rasa Messages through the real component (and Rasa's own
FallbackClassifier after it), with DIET's prediction stood in by the intent a message arrives with.

The sentences are written from the emergency line in data/nlu/emergency.yml, one or more per clause
of it, on both sides of the line.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.fallback_classifier import FallbackClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.data import TrainingType

from nlu_components.emergency import DEFAULT_LEXICON, HAZARD_KEY, EmergencyMatcher, Lexicon

EMERGENCY = "report_emergency"
ROUTINE = "report_maintenance"


@pytest.fixture(scope="module")
def matcher(tmp_path_factory: pytest.TempPathFactory) -> EmergencyMatcher:
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    return EmergencyMatcher.create(
        {**EmergencyMatcher.get_default_config()},
        storage,
        Resource("emergency_matcher"),
        ExecutionContext(graph_schema=None, model_id="test"),  # type: ignore[arg-type]
    )


@lru_cache(maxsize=None)
def default_lexicon() -> Lexicon:
    """The shipped lexicon, built once: a spaCy vocabulary and matcher per test is slow for nothing."""
    return Lexicon.load()


def hazard_of(text: str) -> Optional[str]:
    """The hazard kind of the emergency rule that fires on `text`, or None when none does."""
    verdict = default_lexicon().analyse(text)
    return verdict.emergency[0].hazard if verdict.emergency else None


def diet_message(text: str, ranking: Dict[str, float]) -> Message:
    """A message as DIETClassifier leaves it: its top intent and its ranking."""
    ordered = sorted(ranking.items(), key=lambda kv: -kv[1])
    message = Message(data={TEXT: text})
    message.set(INTENT, {"name": ordered[0][0], "confidence": ordered[0][1]}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [{"name": n, "confidence": c} for n, c in ordered], add_to_output=True)
    return message


def run(matcher: EmergencyMatcher, text: str, diet: Optional[Dict[str, float]] = None) -> Message:
    message = diet_message(text, diet or {ROUTINE: 0.7, "inform": 0.2, EMERGENCY: 0.1})
    [message] = matcher.process([message])
    [message] = FallbackClassifier({"threshold": 0.45, "ambiguity_threshold": 0.05}).process([message])
    return message


def assert_settles_on(matcher: EmergencyMatcher, text: str, diet: Dict[str, float], intent: str) -> None:
    """No emergency rule fires on `text`, and from DIET's `diet` ranking the matcher settles on `intent`."""
    assert default_lexicon().analyse(text).emergency is None, text
    assert run(matcher, text, diet).get(INTENT)["name"] == intent, text


# -- the emergency side of the line: promoted whatever DIET said ------------------------------------
EMERGENCIES: List[tuple] = [
    ("gas", "I can smell gas out in the hallway"),
    ("gas", "there's a strong gas odor near my stove"),
    ("gas", "my oven is leaking gas I think"),
    ("gas", "the whole floor smells like rotten eggs"),
    ("fire", "there is a fire in the building"),
    ("fire", "the toaster caught fire"),
    ("fire", "smoke is coming out from under the bathroom door"),
    ("fire", "I smell something burning in the walls"),
    ("electrical", "the outlet in the kitchen is throwing sparks"),
    ("electrical", "the light switch sparked when I touched it"),
    ("electrical", "the outlet is melting and the plug is black"),
    ("co", "the carbon monoxide alarm is going off"),
    ("co", "my CO detector keeps going off and everyone has a headache"),
    ("co", "the carbon monoxide detector is screaming"),
    ("water", "water is pouring through the ceiling in my bedroom"),
    ("water", "water is dripping out of the light fixture"),
    ("water", "a pipe burst under the sink"),
    ("water", "the hot water tank exploded"),
    ("water", "the laundry room is flooding"),
    ("water", "the toilet overflowed and the water is spreading into the hallway"),
    ("water", "the leak is going into the apartment below me"),
    ("water", "water won't stop coming and I can't turn it off"),
    ("water", "sewage is coming up out of my tub"),
    ("water", "the floor drain is backing up with sewage"),
    ("water", "we have no water at all"),
    ("water", "nothing comes out of any faucet"),
    ("water", "the pipes froze overnight"),
    ("heat", "there's no heat in the apartment"),
    ("heat", "the heat is out and it's freezing"),
    ("heat", "the boiler died last night"),
    ("power", "there's no power anywhere in my apartment"),
    ("power", "the electricity went out in my whole unit and my neighbors still have lights"),
    ("security", "someone broke in and now my door won't lock"),
    ("security", "burglars smashed my window and I can't close it"),
    ("security", "my front door got kicked in"),
    (None, "this is an emergency"),
    (None, "I need emergency maintenance"),
]


@pytest.mark.parametrize("kind,text", EMERGENCIES)
def test_unmistakable_emergencies_are_promoted(matcher: EmergencyMatcher, kind: Optional[str], text: str) -> None:
    message = run(matcher, text)
    assert message.get(INTENT)["name"] == EMERGENCY
    assert message.get(INTENT)["confidence"] >= 0.9
    hazard = message.get(HAZARD_KEY)
    assert hazard["decision"] == "promoted"
    assert hazard["kind"] == kind
    assert hazard["diet_intent"]["name"] == ROUTINE


def test_promotion_keeps_diets_ranking_and_survives_the_fallback(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "I smell gas", {"greet": 0.96, ROUTINE: 0.03, EMERGENCY: 0.01})
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking] == [EMERGENCY, "greet", ROUTINE]
    assert ranking[0]["confidence"] == pytest.approx(0.96)
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert ranking[1]["confidence"] > ranking[2]["confidence"]  # DIET's order of the rest is kept
    assert message.get(HAZARD_KEY)["kind"] == "gas"
    assert "hazard" in message.as_dict(only_output_properties=True)


def test_an_emergency_diet_already_found_is_confirmed_untouched(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "the kitchen is on fire", {EMERGENCY: 0.97, ROUTINE: 0.03})
    assert message.get(INTENT) == {"name": EMERGENCY, "confidence": 0.97}
    assert message.get(HAZARD_KEY)["decision"] == "confirmed"


def test_an_emergency_diet_found_unsure_is_made_sure_before_the_fallback(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "hello yes uh theres a fire in the hallway on the second floor",
                  {EMERGENCY: 0.46, "greet": 0.43, "affirm": 0.11})
    assert message.get(INTENT) == {"name": EMERGENCY, "confidence": 0.9}
    assert message.get(HAZARD_KEY)["decision"] == "confirmed"


# -- the routine side of the line: never promoted ------------------------------------------------
ROUTINE_SIDE = [
    "the smoke detector keeps chirping I think it needs a battery",
    "my carbon monoxide detector chirps every few minutes",
    "there's an old water stain on the bathroom ceiling",
    "the paint on the ceiling is peeling",
    "the kitchen sink drains really slow",
    "the heat is low in the bedroom",
    "the radiator is only lukewarm",
    "the heat isn't strong enough",
    "one light in the kitchen is out",
    "the bulb in the hallway burned out",
    "I have no hot water but the cold works",
    "there's a small leak under the sink I put a bucket under it",
    "the faucet drips all night",
    "the washer left a little puddle on the floor",
    "the stove burner won't light and there's no gas smell",
    "I don't smell gas but the pilot is out",
    "the breaker keeps tripping",
    "I locked myself out",
    "my door doesn't latch right",
    "the window won't close all the way",
    "the toilet keeps running",
    "the ceiling is leaking a little when it rains",
]


@pytest.mark.parametrize("text", ROUTINE_SIDE)
def test_routine_problems_are_never_promoted(matcher: EmergencyMatcher, text: str) -> None:
    message = run(matcher, text, {ROUTINE: 0.8, EMERGENCY: 0.15, "inform": 0.05})
    assert message.get(INTENT)["name"] == ROUTINE
    assert message.get(HAZARD_KEY)["decision"] == "none"


# hazard words that are not a hazard: other intents keep their intent
NOT_A_HAZARD = [
    ("out_of_scope", "where's the closest gas station"),
    ("out_of_scope", "where's the closest urgent care"),
    ("out_of_scope", "my kids love watching the fire engines on tv"),
    ("out_of_scope", "i saw on the news there was a huge fire in queens"),
    ("out_of_scope", "how do I fire up the grill"),
    ("out_of_scope", "what time are the fireworks"),
    ("ask_property_fact", "is gas included in the rent"),
    ("ask_property_fact", "is smoking allowed in the building"),
    ("ask_property_fact", "is the building in a flood zone"),
    ("ask_property_fact", "can I pay the water bill online"),
    ("ask_office_hours", "what's the emergency number after hours"),
    ("out_of_scope", "what should I do if I smell gas"),
    ("report_maintenance", "my neighbor is smoking cigarettes in the hallway"),
    ("report_maintenance", "where is the fire escape key"),
    ("report_maintenance", "the fire alarm in the hall has a dead battery"),
    ("report_maintenance", "it's not an emergency but my sink is clogged"),
    ("report_maintenance", "the power was out on the whole block because of the storm"),
    ("report_maintenance", "one outlet in the bedroom has no power"),
    ("report_maintenance", "my key broke in the lock"),
    ("inform", "call me at seven one eight nine one one two two three three"),
    ("deny", "no problem"),
    ("deny", "no thanks"),
]


@pytest.mark.parametrize("intent,text", NOT_A_HAZARD)
def test_hazard_words_that_are_not_a_hazard(matcher: EmergencyMatcher, intent: str, text: str) -> None:
    message = run(matcher, text, {intent: 0.9, EMERGENCY: 0.06, "greet": 0.04})
    assert message.get(INTENT)["name"] == intent


def test_negated_hazards_do_not_fire() -> None:
    lexicon = default_lexicon()
    for text in ("there's no gas smell", "no sparks or smoke just a dead outlet", "it's not on fire",
                 "there was no break in I just lost my key and the door won't lock",
                 "there's a sewer smell coming up from the drain", "there's no sewage coming up it just smells"):
        assert lexicon.analyse(text).emergency is None, text


def test_a_negated_unless_cue_does_not_block_an_emergency() -> None:
    lexicon = default_lexicon()
    verdict = lexicon.analyse("the co detector is sounding the long alarm it is not chirping")
    assert verdict.emergency is not None and verdict.emergency[0].hazard == "co"
    verdict = lexicon.analyse("the carbon monoxide alarm keeps going off and it's not the battery")
    assert verdict.emergency is not None and verdict.emergency[0].hazard == "co"
    # said, not negated: still routine
    assert lexicon.analyse("the co detector goes off with a chirp every few minutes").emergency is None


@pytest.mark.parametrize("kind,text", [
    ("co", "I put new batteries in the co alarm and it keeps going off"),
    ("co", "the carbon monoxide detector is doing the loud alarm"),
    ("security", "they broke in last night and the lock is ripped out of the door"),
    ("power", "the power is out only in my apartment nothing works"),
    ("water", "sewage is coming up out of the tub and it smells like sewage"),
    ("gas", "the burner won't light and i smell gas"),
    ("security", "someone broke in and the lock is stuck i can't close the door"),
    ("electrical", "the outlet in the kitchen went pop with a blue flash"),
    ("electrical", "there are black marks around the light switch now"),
    ("water", "gross black water is coming up through the tub drain"),
    ("heat", "the heat is out in the whole apartment"),
    ("heat", "no heat at all so we have the oven on"),
    ("heat", "the heat is out and i'm using the stove to stay warm"),
    ("fire", "the fire department is here the kitchen caught fire"),
    ("fire", "there's a fire in the apartment across the hall from me"),
])
def test_more_emergencies_are_recognised(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


@pytest.mark.parametrize("text", [
    "the power is out only in the kitchen",
    "the co detector has a low battery it chirps every minute",
])
def test_partial_or_low_battery_problems_are_not_promoted(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


# -- routine problems DIET took for emergencies -----------------------------------------------------
@pytest.mark.parametrize("text", [
    "the smoke alarm chirps every minute",
    "there's an old stain on my ceiling",
    "the tub drains really slowly",
    "the heat is kind of weak",
    "no hot water since this morning",
    "the outlet by my bed doesn't work",
    "the radiator is banging and hissing all night",
    "the water from the bathroom tap is kind of rusty",
    "the washing machine won't drain and the clothes are sitting in water",
    "the dishwasher is not draining",
    "we got mice in the kitchen by the door",
    "I need my locks changed",
    "the front door sticks and is hard to close",
    "the hot water runs out really fast",
    "the burner won't light but i don't smell any gas",
    "there's a hole in the wall from the doorknob",
    "there's a sewer smell in the bathroom but nothing is backing up",
    "my washer doesn't pump the water out at the end of the cycle",
    "the refrigerator is freezing everything even the lettuce",
    "my oven does not heat up at all anymore",
    "the bathroom sink keeps dripping all night and i can't sleep",
    "two of the outlets in my bedroom stopped working the rest of the place is fine",
    "the kitchen faucet is leaking again",
    "the smoke detector in my bedroom fell off the ceiling",
    "we don't have a carbon monoxide detector can someone install one",
])
def test_routine_problems_diet_took_for_emergencies_are_demoted(matcher: EmergencyMatcher, text: str) -> None:
    message = run(matcher, text, {EMERGENCY: 0.8, ROUTINE: 0.15, "inform": 0.05})
    assert message.get(INTENT)["name"] == ROUTINE
    assert message.get(HAZARD_KEY)["decision"] == "demoted"
    assert message.get(INTENT_RANKING_KEY)[1]["name"] == EMERGENCY


def test_routine_words_beside_an_alarm_word_leave_diets_emergency(matcher: EmergencyMatcher) -> None:
    # "chirping" is routine, but "screaming" may be the alarm sounding: no rule is sure, DIET decides
    message = run(matcher, "the smoke detector was chirping and now it's screaming", {EMERGENCY: 0.8, ROUTINE: 0.2})
    assert message.get(INTENT)["name"] == EMERGENCY
    assert message.get(HAZARD_KEY)["decision"] == "kept"


def test_firefighters_at_the_door_leave_diets_emergency(matcher: EmergencyMatcher) -> None:
    # "fire department" is no fire by itself, but it still names a subject of the emergency line
    message = run(matcher, "the fire department is here and they made everyone go outside", {EMERGENCY: 0.8, ROUTINE: 0.2})
    assert message.get(INTENT)["name"] == EMERGENCY
    assert message.get(HAZARD_KEY)["decision"] == "kept"


def test_demotion_can_be_switched_off() -> None:
    matcher = EmergencyMatcher({"demote_routine": False, "require_hazard_word": False})
    for text in ("the smoke alarm chirps every minute", "two adults and a kid"):
        message = run(matcher, text, {EMERGENCY: 0.8, ROUTINE: 0.2})
        assert message.get(INTENT)["name"] == EMERGENCY


def test_a_message_without_text_is_left_alone(matcher: EmergencyMatcher) -> None:
    message = Message(data={})
    [out] = matcher.process([message])
    assert out.get(INTENT) is None and out.get(HAZARD_KEY) is None


# -- the lexicon file ------------------------------------------------------------------------------
def test_a_designer_can_extend_the_lexicon(tmp_path: Path) -> None:
    spec = yaml.safe_load(DEFAULT_LEXICON.read_text())
    text = "the radiator is blowing out steam into the room"
    assert Lexicon(spec).analyse(text).emergency is None
    spec["cues"]["steam"] = ["steam", "live steam"]
    spec["cues"]["blowing"] = ["blowing out", "shooting out", "hissing out"]
    spec["emergency_rules"].append({"name": "steam leak", "hazard": "heat", "all": ["blowing", "steam"], "window": 2})
    path = tmp_path / "lexicon.yml"
    path.write_text(yaml.safe_dump(spec))
    matcher = EmergencyMatcher({"lexicon": str(path)})
    message = run(matcher, text)
    assert message.get(INTENT)["name"] == EMERGENCY
    assert message.get(HAZARD_KEY)["rule"] == "steam leak"


def test_a_rule_naming_an_unknown_cue_is_an_error() -> None:
    spec = yaml.safe_load(DEFAULT_LEXICON.read_text())
    spec["emergency_rules"].append({"name": "typo", "all": ["gsa"]})
    with pytest.raises(ValueError, match="gsa"):
        Lexicon(spec)


def test_an_unquoted_yaml_no_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.yml"
    path.write_text(DEFAULT_LEXICON.read_text().replace('no_word: ["no",', "no_word: [no,"))
    with pytest.raises(ValueError, match="quotes"):
        Lexicon.load(str(path))


# -- the pipeline ----------------------------------------------------------------------------------
def test_config_runs_it_after_diet_and_before_the_fallback() -> None:
    config = yaml.safe_load(Path("config.yml").read_text())
    names = [c["name"] for c in config["pipeline"]]
    position = names.index("nlu_components.emergency.EmergencyMatcher")
    assert names.index("DIETClassifier") < position < names.index("FallbackClassifier")


def test_the_default_recipe_builds_a_graph_with_it() -> None:
    config = yaml.safe_load(Path("config.yml").read_text())
    graphs = DefaultV1Recipe().graph_config_for_recipe(config, {}, training_type=TrainingType.NLU)
    nodes = [n for n in graphs.predict_schema.nodes.values() if n.uses is EmergencyMatcher]
    assert len(nodes) == 1 and nodes[0].fn == "process"


# -- DIET's emergencies that name no subject of the emergency line --------------------------------
@pytest.mark.parametrize("text,runner_up", [
    ("two adults and a kid", "inform"),
    ("what's the temperature outside right now", "out_of_scope"),
    ("any vacancies coming up", "ask_availability"),
    ("um the uh stove", "inform"),
    ("how much does a gallon of gas cost", "out_of_scope"),
    ("is heat included in the rent", "ask_property_fact"),
])
def test_an_emergency_naming_no_hazard_subject_falls_to_diets_next_intent(
    matcher: EmergencyMatcher, text: str, runner_up: str
) -> None:
    message = run(matcher, text, {EMERGENCY: 0.9, runner_up: 0.08, "greet": 0.02})
    assert message.get(INTENT) == {"name": runner_up, "confidence": pytest.approx(0.9)}
    assert message.get(HAZARD_KEY)["decision"] == "implausible"


@pytest.mark.parametrize("text", [
    "the ceiling is caving in",
    "there's water all over",
    "please hurry I need help",
    "my neighbor's door is hot to touch",
])
def test_an_emergency_naming_a_hazard_subject_is_left_to_diet(matcher: EmergencyMatcher, text: str) -> None:
    message = run(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1})
    assert message.get(INTENT)["name"] == EMERGENCY


@pytest.mark.parametrize("text", [
    "the washing machine hose burst and water is everywhere",
    "the dryer is smoking and won't turn off",
    "the pipes are banging and now water is pouring out of the wall",
])
def test_appliance_and_pipe_emergencies_stay_emergencies(matcher: EmergencyMatcher, text: str) -> None:
    message = run(matcher, text, {ROUTINE: 0.8, EMERGENCY: 0.15, "inform": 0.05})
    assert message.get(INTENT)["name"] == EMERGENCY, text


def test_a_running_toilet_is_routine(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "the toilet won't stop running", {EMERGENCY: 0.8, ROUTINE: 0.15, "inform": 0.05})
    assert message.get(INTENT)["name"] == ROUTINE
    # but a toilet that will not stop overflowing all over the floor stays an emergency
    message = run(matcher, "the toilet won't stop running and water is all over the floor", {ROUTINE: 0.8, EMERGENCY: 0.2})
    assert message.get(INTENT)["name"] == EMERGENCY


def test_paying_for_a_utility_is_not_a_hazard(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "do i need to pay for electricity", {EMERGENCY: 0.7, "ask_property_fact": 0.25, ROUTINE: 0.05})
    assert message.get(INTENT)["name"] == "ask_property_fact"


def test_a_chirping_co_detector_diet_took_for_an_emergency_is_demoted(matcher: EmergencyMatcher) -> None:
    text = "the carbon monoxide detector chirps i think it wants a new battery"
    message = run(matcher, text, {EMERGENCY: 0.8, ROUTINE: 0.15, "inform": 0.05})
    assert message.get(INTENT)["name"] == ROUTINE
    # sounding is still an alarm word: DIET's emergency stands
    message = run(matcher, "the co detector was chirping and now it is going off", {EMERGENCY: 0.8, ROUTINE: 0.2})
    assert message.get(INTENT)["name"] == EMERGENCY


# -- somewhere else, some other time: displacement -----------------------------------------------
@pytest.mark.parametrize("text,runner_up", [
    ("the rangers were on fire last night what a game", "out_of_scope"),
    ("i saw on the news the subway flooded again at fourteenth street", "out_of_scope"),
    ("my sister's place in new jersey got flooded in the storm", "out_of_scope"),
    ("we did a fire drill at my kids school this morning", "out_of_scope"),
    ("i've been smoking salmon on my grill all day", "out_of_scope"),
    ("i quit smoking three weeks ago", "out_of_scope"),
    ("is this a smoke-free building", "ask_property_fact"),
    ("that album is straight fire", "out_of_scope"),
    ("my phone is blowing up with texts sorry", "out_of_scope"),
])
def test_a_hazard_somewhere_else_is_no_emergency(matcher: EmergencyMatcher, text: str, runner_up: str) -> None:
    for diet in ({EMERGENCY: 0.9, runner_up: 0.08, "greet": 0.02}, {runner_up: 0.9, EMERGENCY: 0.08, "greet": 0.02}):
        message = run(matcher, text, diet)
        assert message.get(INTENT)["name"] == runner_up, (text, diet)


OVER = [
    "since the flood last winter the floorboards in the hall are warped",
    "the pipe burst back in march and now there's mold on the closet wall",
    "the dryer hose blew off but i put it back on and it's fine now can someone look at it",
]


@pytest.mark.parametrize("text", OVER + [
    "there was some smoke from the toaster but it was a false alarm can you check the detector",
])
def test_a_hazard_that_is_over_fires_no_rule(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


@pytest.mark.parametrize("text", OVER)
def test_a_hazard_that_is_over_is_no_emergency_even_to_diet(matcher: EmergencyMatcher, text: str) -> None:
    # nothing else names a subject of the emergency line (the toaster's "detector" would: DIET decides there)
    message = run(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.08, "inform": 0.02})
    assert message.get(INTENT)["name"] == ROUTINE, text


@pytest.mark.parametrize("kind,text", [
    ("water", "i was watching the news when water started pouring through my ceiling"),
    ("water", "the pipe that burst last month burst again and water is everywhere"),
    ("water", "the plumber fixed the leak last week but now water is pouring through the ceiling again"),
    ("heat", "the heat has been out since last week"),
    ("heat", "we've had no heat since last month"),
    ("water", "no water at all since last week nothing comes out of the taps"),
    ("fire", "i'm in my car outside and i can see flames in my kitchen window"),
    ("fire", "i'm at work and my neighbor says smoke is coming out of my apartment"),
    ("fire", "i put the fire out but the wall is still smoking"),
    ("gas", "i smelled gas last week and again just now"),
    ("gas", "the gas smell from last month is back"),
    ("co", "the carbon monoxide alarm went off earlier and now it's going off again"),
    ("water", "the toilet overflowed it's all over the floor nobody got hurt but it's spreading"),
])
def test_an_emergency_told_with_its_story_is_still_an_emergency(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


def test_a_gas_smell_is_never_over() -> None:
    assert hazard_of("there was a gas smell in the hallway earlier but it's fine now") == "gas"


@pytest.mark.parametrize("text", [
    "it's not an emergency but my mailbox key is bent",
    "no rush but the light over the sink flickers whenever you get a chance",
])
def test_the_caller_saying_it_is_not_urgent_is_routine(matcher: EmergencyMatcher, text: str) -> None:
    message = run(matcher, text, {EMERGENCY: 0.9, "inform": 0.07, ROUTINE: 0.03})
    assert message.get(INTENT)["name"] == ROUTINE
    assert message.get(HAZARD_KEY)["decision"] == "demoted"


def test_not_urgent_does_not_outweigh_a_hazard() -> None:
    assert hazard_of("it's not an emergency i guess but there's a little smoke from the outlet") == "fire"


def test_cigarette_smoke_from_a_neighbor_is_a_complaint(matcher: EmergencyMatcher) -> None:
    text = "my downstairs neighbor smokes all night and the cigarette smoke comes up through the vent"
    message = run(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.08, "inform": 0.02})
    assert message.get(INTENT)["name"] == ROUTINE


def test_an_oven_door_that_shattered_is_no_break_in() -> None:
    assert default_lexicon().analyse("the glass in the oven door shattered when i was cooking").emergency is None
    assert hazard_of("they shattered the front door glass and i can't lock it") == "security"


@pytest.mark.parametrize("text", [
    "the extinguisher on the third floor is expired can you get a new one",
    "the exit sign over the back stairs is out",
    "one of the sprinklers in the hall is missing its cover",
    "there are still soot marks in the hallway from the fire downstairs a while back can someone paint",
    "my stove's pilot went out and i can't relight it and there's no gas smell at all",
])
def test_upkeep_after_or_around_fire_is_routine(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.08, "inform": 0.02}, ROUTINE)


@pytest.mark.parametrize("text", [
    "my uncle's basement flooded in the storm it's not one of your buildings",
    "i thought i smelled something burning but it turned out to be the pizza place downstairs",
    "just curious how long does it take a fire truck to get here",
    "does renters insurance cover a flood from upstairs",
])
def test_other_peoples_homes_questions_and_false_alarms_fire_no_rule(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


@pytest.mark.parametrize("kind,text", [
    ("heat", "i'm calling for my grandmother she hasn't had any heat since friday"),
    ("heat", "we have no heat at all not even a little bit"),
    ("fire", "i have renters insurance but right now my kitchen is on fire"),
    ("water", "the flood in my apartment is not your building's fault but it is pouring in"),
])
def test_those_words_leave_a_real_emergency_alone(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


def test_a_negated_hazard_word_names_no_hazard(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "there's no smell at all i'd just like the landlord to look at the stove hookup",
                  {EMERGENCY: 0.9, ROUTINE: 0.08, "inform": 0.02})
    assert message.get(INTENT)["name"] == ROUTINE
    assert message.get(HAZARD_KEY)["decision"] == "implausible"


def test_displacement_names_only_defined_rules(tmp_path: Path) -> None:
    spec = yaml.safe_load(DEFAULT_LEXICON.read_text())
    spec["displacement"]["never"] = ["no such rule"]
    path = tmp_path / "lexicon.yml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ValueError, match="no such rule"):
        Lexicon.load(str(path))


@pytest.mark.parametrize("kind,text", [
    ("gas", "my kitchen kind of smells like eggs and i don't even have any eggs"),
    ("water", "it's raining in my kitchen from the ceiling"),
])
def test_a_gas_smell_or_a_leak_said_sideways_is_an_emergency(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


def test_words_for_water_indoors_keep_diets_emergency(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "the guy upstairs left his bath on and now it's wet and dripping down my walls",
                  {EMERGENCY: 0.9, ROUTINE: 0.1})
    assert message.get(INTENT)["name"] == EMERGENCY


@pytest.mark.parametrize("text", [
    "my kitchen exhaust fan sounds like it's on fire it's so loud",
    "the fire alarm in the lobby went off during the drill and now it's dangling from the ceiling",
])
def test_figures_of_speech_and_drills_fire_no_rule(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


def test_a_dead_appliance_is_routine(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "my freezer died overnight", {EMERGENCY: 0.9, ROUTINE: 0.08, "inform": 0.02})
    assert message.get(INTENT)["name"] == ROUTINE


def test_a_dead_fridge_in_a_dead_apartment_stays_diets_emergency(matcher: EmergencyMatcher) -> None:
    text = "none of the outlets work and the fridge is dead too i called con ed and they said it's just us"
    message = run(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1})
    assert message.get(INTENT)["name"] == EMERGENCY


@pytest.mark.parametrize("text", [
    "the toilet keeps running and running and it won't stop",
    "one of the lights in the back hallway of my apartment is out",
])
def test_a_running_toilet_or_a_light_out_is_routine(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1}, ROUTINE)


def test_a_show_someone_watched_is_no_fire() -> None:
    assert default_lexicon().analyse("we watched an episode about a big warehouse fire last night").emergency is None


@pytest.mark.parametrize("kind,text", [
    ("co", "the co box by the front closet has been doing a long loud beeping for like ten minutes"),
    ("water", "the kitchen drain keeps bringing up this brown gunk"),
    ("gas", "there's a weird gassy smell in the stairway"),
])
def test_more_ways_to_say_an_emergency(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


@pytest.mark.parametrize("text", [
    "my puppy has been so gassy since we changed his food",
    "i have to write an essay about the great chicago fire for school",
    "the outlet by the couch is dead nothing works when i plug something in",
])
def test_more_ways_to_say_no_emergency(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


@pytest.mark.parametrize("kind,text", [
    ("water", "there's sue wedge bubbling up out of the tub"),
    ("fire", "the couch cushion is smoldering where the candle fell"),
    ("water", "it's like a geyser coming out of the pipe under the sink"),
    ("water", "i shut the valve but it's pouring through to downstairs anyway"),
    ("heat", "the boiler won't turn on and it's freezing"),
])
def test_unusual_words_for_an_emergency(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


@pytest.mark.parametrize("text", [
    "this is an emergency my dishwasher is jammed",
    "it's an emergency my oven won't turn on and it's thanksgiving",
])
def test_calling_a_routine_problem_an_emergency_does_not_make_it_one(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1}, ROUTINE)


@pytest.mark.parametrize("text", [
    "is a charcoal grill on the fire escape a fire hazard",
    "my cousin plays in a band called the flaming pipes",
    "the toilet runs all night with a waterfall sound",
])
def test_hazard_words_in_names_and_questions_fire_no_rule(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


@pytest.mark.parametrize("text", [
    "which bottled water do you guys recommend",
    "is the belt parkway still flooded by the exit",
])
def test_bottled_water_and_a_flooded_road_are_no_emergency(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, "out_of_scope": 0.08, ROUTINE: 0.02}, "out_of_scope")


def test_a_leak_the_caller_cannot_stop_is_an_emergency_however_long_the_story() -> None:
    assert hazard_of(
        "there's a leak behind the washer and i turned every valve i could find and it's still coming i can't stop it"
    ) == "water"


def test_a_toilet_running_the_whole_time_is_routine(matcher: EmergencyMatcher) -> None:
    message = run(matcher, "the toilet keeps running the whole time i can hear it all night", {EMERGENCY: 0.9, ROUTINE: 0.1})
    assert message.get(INTENT)["name"] == ROUTINE
    # but a CO detector doing it is an emergency
    assert hazard_of("the carbon monoxide thing in the hall is beeping the whole time") == "co"


def test_wildfires_far_away_are_no_fire_here() -> None:
    assert default_lexicon().analyse("those wildfires in california look terrifying on the news").emergency is None
    assert default_lexicon().analyse("the brush fires out west are crazy this year").emergency is None


def test_a_co_alarm_beeping_continuously_with_a_headache_is_an_emergency() -> None:
    assert hazard_of("the co detector in the hall has a continuous beep and my kids say their heads hurt") == "co"


def test_news_someone_heard_is_no_fire_here() -> None:
    assert default_lexicon().analyse("did you hear about the fire at the laundromat on victory boulevard").emergency is None


def test_a_small_leak_from_last_week_that_pours_now_is_an_emergency() -> None:
    assert hazard_of("the small leak i told you about last week is pouring now and i can't shut it off") == "water"


@pytest.mark.parametrize("text", [
    "my key snapped off in the front door lock",
    "it's boiling in here the radiator won't shut off",
    "it's freezing in one room the radiator in the kids room is cold the rest of the apartment is warm",
])
def test_a_broken_key_too_much_heat_or_one_cold_room_is_routine(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1}, ROUTINE)


@pytest.mark.parametrize("text", [
    "the pilot on the water heater went out and there's no gas smell can someone relight it",
    "the freezer isn't freezing anymore",
    "a couple of the cabinet hinges broke in the bathroom",
    "nothing's wrong yet but can someone look at the radiators before it gets cold",
    "i called twice about the kitchen sink and nobody came",
    "we had a little grease fire last night it's out and everything's fine but the hood fan won't turn on",
])
def test_more_routine_problems_with_alarming_words(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1}, ROUTINE)


def test_a_repeat_caller_with_water_pouring_is_an_emergency() -> None:
    assert hazard_of("i called twice already and nobody came and now water is pouring through the ceiling") == "water"


# From the fresh tuning sets of 2026-11-25 (dev14 to dev43), one sentence per family, in my own words.
FRESH_EMERGENCIES = [
    ("co", "the see oh box in the hallway is doing a long loud beeping it won't quit"),
    ("security", "somebody was in my apartment some of my stuff is missing and the window was broken i can't close it"),
    ("security", "we came home and the back window was smashed in and we can't close it"),
    ("security", "someone forced the window open last night and took my laptop and now the latch is broken"),
    ("water", "i shut the valve under the bathroom sink but the water did not stop"),
    ("water", "the water heater is leaking and i can't get it to stop"),
    ("water", "the kitchen faucet does not give any water and neither does the bathroom"),
    ("water", "there's a tiny bit of water dripping from the ceiling but it's getting worse and worse every minute"),
    ("water", "there's a little stream from the bedroom ceiling and the bucket is already full"),
    ("water", "there's a little water dribbling out of the light in the hallway"),
    ("water", "some nasty stuff is coming up out of the tub drain"),
    ("water", "the leak from under my kitchen sink is going into the apartment downstairs"),
    ("water", "sorry to bother you but the roof is leaking into the top floor and it's running down the stairs"),
    ("water", "the toilet is over flowing and it's going all over the floor"),
    ("water", "a pipe broke under the sink and water is everywhere"),
    ("heat", "sorry to bother you but the heat does not seem to be on anywhere in the apartment"),
    ("heat", "the heat has not come on since last night and it's freezing"),
    ("fire", "there's a haze in the living room"),
    ("fire", "i can't tell what's burning but something is"),
    ("fire", "i burnt the toast and now the kitchen is still full of smoke"),
    ("fire", "every time the exhaust fan runs it smells kind of burnt"),
    ("electrical", "the outlet behind the tv is hot to the touch and it's crackling"),
    ("electrical", "the bathroom fan made a flash and a pop when i turned it on"),
    ("power", "the entire apartment went pitch dark and the breakers all look fine"),
]

# DIET said emergency; no rule fires and the matcher makes it routine maintenance.
FRESH_ROUTINE = [
    "one of the radiators in the living room is cold the rest are fine",
    "my dishwasher broke",
    "the dryer is broken again",
    "there's mold and a little mushroom growing behind the toilet",
    "the front door doesn't latch it swings open in the wind nobody broke in it's just old",
    "we had a small kitchen fire, i put it out and everything is fine now, but the smoke detector melted and needs replacing",
    "the mildew on the bathroom ceiling keeps coming back no matter how much i scrub",
    "the toilet keep running like non stop all night",
    "the toilet's been running nonstop since yesterday",
    "the toilet won't stop running it keeps filling up",
    "the pipes froze in january but they thawed out and i just want someone to check them out",
    "when i cook the smoke just hangs in the kitchen because the hood fan is broken",
    "the ac in the bedroom runs but it's not cooling at all and i'm melting",
    "there's a small puddle by the dishwasher",
    "the emergency exit sign on the third floor is out",
    "my keys got stolen at the gym can i get the lock changed",
    "my key broke in the lock and i'm locked out",
    "the microwave popped and died no smoke or anything",
    "the neighbor's smoke alarm went off for a minute and that was fine but my dryer stopped working",
]

# No emergency rule fires (DIET decides).
FRESH_NO_RULE = [
    "there was a bit of smoke because i burnt the toast and now the detector keeps chirping",
    "the smoke tector in the bedroom chirps every minute i think it's the battery",
    "this is an emergency the bathtub does not drain",
    "the tub drains so slow i'm standing in like an inch of water when i shower",
    "i heard there's a good one about a flood playing at the movies",
    "there was a fire at the deli on bay street last night",
    "i burnt some rice and there was smoke but it's all cleared out now",
    "the paint on the bathroom ceiling is bubbling but no water coming through",
    "there's black mold coming up between the tiles in the shower",
    "the pipes sound like a flood in the wall when the neighbors shower but nothing leaks",
    "how do i set up my fire tv stick",
    "water was coming through the ceiling last night but the guy upstairs fixed his pipe and now there's just a stain",
    "the kitchen is flooded with ants again",
    "where can i get tickets for earth wind and fire",
    "the heat finally kicked in but the bedroom window won't close all the way",
    "my kids keep running down the stairs and the neighbors complain",
    "i saw the news about a fire downtown anyway the closet door in my bedroom is off its track",
]

# DIET said emergency; the hazard word names nothing here, so DIET's next intent is taken.
FRESH_NOT_A_HAZARD = [
    "my car got a ticket for parking by the hydrant",
    "how much is gas going for these days",
    "it smelled like burning earlier but that was just my toast",
]


@pytest.mark.parametrize("kind,text", FRESH_EMERGENCIES)
def test_fresh_sets_emergencies_fire_a_rule(kind: str, text: str) -> None:
    assert hazard_of(text) == kind, text


@pytest.mark.parametrize("text", FRESH_ROUTINE)
def test_fresh_sets_routine_problems_with_alarming_words_are_routine(matcher: EmergencyMatcher, text: str) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, ROUTINE: 0.1}, ROUTINE)


@pytest.mark.parametrize("text", FRESH_NO_RULE)
def test_fresh_sets_near_misses_fire_no_rule(text: str) -> None:
    assert default_lexicon().analyse(text).emergency is None, text


@pytest.mark.parametrize("text", FRESH_NOT_A_HAZARD)
def test_fresh_sets_hazard_words_about_nothing_here_give_way_to_diets_next_intent(
    matcher: EmergencyMatcher, text: str
) -> None:
    assert_settles_on(matcher, text, {EMERGENCY: 0.9, "out_of_scope": 0.1}, "out_of_scope")


def test_a_gas_smell_the_utility_fixed_is_settled_but_not_one_that_is_back() -> None:
    fixed = "we had a gas smell this morning but con ed already fixed it now the stove clock is broken"
    assert default_lexicon().analyse(fixed).emergency is None
    assert hazard_of("con ed fixed the pipe last week but i smell gas again in the kitchen") == "gas"
    # calling the utility is not the utility having fixed it
    assert hazard_of("i smell gas and i called con ed they're on the way") == "gas"
    # and a superintendent's repair does not settle a gas smell
    assert hazard_of("i smell gas the super fixed it yesterday") == "gas"


def test_anyway_ends_a_story_but_not_a_fire_at_home() -> None:
    assert hazard_of("i saw the news anyway there is a fire in my kitchen") == "fire"


@pytest.mark.parametrize("text", [
    "the radiator in the bedroom is dead and the other ones are cold too",
    "the super took my key and now the door won't lock",
])
def test_no_routine_rule_claims_a_cold_home_or_a_door_that_will_not_lock(text: str) -> None:
    assert default_lexicon().analyse(text).routine is None, text
