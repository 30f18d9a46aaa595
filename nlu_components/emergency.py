"""EmergencyMatcher: a deterministic safety net for report_emergency, run after DIETClassifier.

Emergency recall must be 100%, and a statistical classifier cannot promise that. This component
reads the caller's words with spaCy's rule-based PhraseMatcher over the blank English tokenizer
(nothing to download) and applies the rules in `emergency_lexicon.yml`, which are written from the
emergency line at the top of data/nlu/emergency.yml:

- an emergency rule fires (gas smell, fire, smoke, sparks, water pouring through a ceiling, a burst
  pipe, flooding, sewage coming up, a CO alarm sounding, no heat, no water, no power anywhere, a home
  that cannot be secured after a break-in, "this is an emergency"): the intent becomes
  report_emergency, whatever DIET predicted;
- DIET predicted report_emergency but only a routine rule fires (a chirping detector, an old stain,
  a slow drain, weak heat, one light out, no hot water, a small leak) and no alarm word occurs: the
  intent becomes report_maintenance;
- DIET predicted report_emergency but the words name none of the emergency line's subjects (water,
  gas, fire, smoke, electricity, heat, alarms, doors and locks, sewage, "emergency", ...): DIET's next
  intent is taken ("two adults and a kid" is not an emergency, however sure DIET is);
- otherwise DIET's prediction stands.

A hazard word about somewhere else or some other time ("the knicks are on fire", "the flood last
month", "the hose popped off but it's fine now") counts for none of this (`displacement` in the
lexicon), except in the rules for a gas smell or a CO alarm, which are always reported.

DIET's other candidates stay in `intent_ranking` (rescaled so the ranking still sums to one), and the
message gets a `hazard` output property: the hazard kind, the rule, the words that matched, what the
component did and DIET's own top intent, so a reviewer can see why an intent changed.
"""
from __future__ import annotations

import itertools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence, Text, Tuple

import yaml
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

logger = logging.getLogger(__name__)

EMERGENCY_INTENT = "report_emergency"
ROUTINE_INTENT = "report_maintenance"
HAZARD_KEY = "hazard"
DEFAULT_LEXICON = Path(__file__).with_name("emergency_lexicon.yml")
_MASK = "__not_a_hazard__"
_ELSEWHERE = "__elsewhere__"
HAZARD_WORDS = "hazard_words"
_HYPHEN = re.compile(r"(?<=[A-Za-z])-(?=[A-Za-z])")


def _clean(text: Optional[Text]) -> Text:
    """Curly apostrophes made straight and word hyphens made spaces ("smoke-free" is "smoke free")."""
    return _HYPHEN.sub(" ", (text or "").replace("\u2019", "'").replace("\u2018", "'"))


@dataclass(frozen=True)
class Rule:
    """All of `groups` (each a set of alternative cue names) within `window` words of each other."""

    name: Text
    groups: Tuple[FrozenSet[Text], ...]
    hazard: Optional[Text] = None
    window: int = 8
    ordered: bool = False
    unless: FrozenSet[Text] = frozenset()
    across_clauses: bool = False  # "the ac is running but it's not cooling"


@dataclass(frozen=True)
class Hit:
    cue: Text
    start: int
    end: int


@dataclass
class Verdict:
    """What the rules found in one utterance."""

    emergency: Optional[Tuple[Rule, Tuple[Hit, ...]]] = None
    routine: Optional[Tuple[Rule, Tuple[Hit, ...]]] = None
    alarm_words: List[Text] = field(default_factory=list)
    hazard_words: List[Text] = field(default_factory=list)


class Lexicon:
    """The word lists and rules of emergency_lexicon.yml, compiled into one spaCy PhraseMatcher."""

    def __init__(self, spec: Dict[Text, Any]) -> None:
        import spacy
        from spacy.matcher import PhraseMatcher

        self.nlp = spacy.blank("en")  # tokenizer and norms only: part of the spacy package, no download
        self.cues: Dict[Text, List[Text]] = {name: [str(p) for p in phrases] for name, phrases in spec["cues"].items()}
        self.negators = {str(w).lower() for w in spec.get("negators", [])}
        self.negation_window = int(spec.get("negation_window", 3))
        self.negation_breaks = {str(w).lower() for w in spec.get("negation_breaks", [])}
        self.negation_exceptions = {str(w).lower() for w in spec.get("negation_exceptions", [])}
        self.clause_breaks = {str(w).lower() for w in spec.get("clause_breaks", [])}
        self.negatable = set(spec.get("negatable", []))
        self.alarm_cues = set(spec.get("alarm_cues", []))
        default_window = int(spec.get("window", 8))
        self.emergency_rules = [self._rule(r, default_window) for r in spec.get("emergency_rules", [])]
        self.routine_rules = [self._rule(r, default_window) for r in spec.get("routine_rules", [])]
        self.hypothetical = [str(p) for p in spec.get("hypothetical", [])]
        moved = spec.get("displacement") or {}
        self.displace_window = int(moved.get("window", 6))
        self.displaced_by = {str(k): set(v or []) for k, v in (moved.get("by") or {}).items()}
        self.resolved_by = {str(k): set(v or []) for k, v in (moved.get("resolved_by") or {}).items()}
        self.everywhere_by = {str(k): set(v or []) for k, v in (moved.get("everywhere_by") or {}).items()}
        self.settled_by = {str(k): set(v or []) for k, v in (moved.get("settled_by") or {}).items()}
        self.never_displaced = set(moved.get("never", []))  # rule names
        self.displacement_tables = (self.displaced_by, self.resolved_by, self.everywhere_by, self.settled_by)
        self.displace_breaks = self.clause_breaks | {str(w).lower() for w in moved.get("breaks", [])}

        used = set(self.negatable) | self.alarm_cues | {HAZARD_WORDS}
        for cue, cancelling in itertools.chain(*(table.items() for table in self.displacement_tables)):
            used |= {cue} | cancelling
        for rule in self.emergency_rules + self.routine_rules:
            used |= set().union(*rule.groups) | rule.unless
        unknown = sorted(used - set(self.cues))
        if unknown:
            raise ValueError(f"emergency lexicon: rules name cues that are not defined: {unknown}")
        unknown = sorted(self.never_displaced - {rule.name for rule in self.emergency_rules})
        if unknown:
            raise ValueError(f"emergency lexicon: displacement.never names rules that are not defined: {unknown}")

        self.matcher = PhraseMatcher(self.nlp.vocab, attr="NORM")
        for name, phrases in self.cues.items():
            self.matcher.add(name, [self.nlp.make_doc(p) for p in phrases])
        self.matcher.add(_MASK, [self.nlp.make_doc(str(p)) for p in spec.get("not_a_hazard", [])])
        self.matcher.add(_ELSEWHERE, [self.nlp.make_doc(str(p)) for p in spec.get("elsewhere", [])])
        self.matcher.add("__hypothetical__", [self.nlp.make_doc(p) for p in self.hypothetical])

    @staticmethod
    def _rule(raw: Dict[Text, Any], default_window: int) -> Rule:
        groups = tuple(frozenset(str(item).split("|")) for item in raw["all"])
        return Rule(
            name=str(raw["name"]),
            groups=groups,
            hazard=raw.get("hazard"),
            window=int(raw.get("window", default_window)),
            ordered=bool(raw.get("ordered", False)),
            unless=frozenset(raw.get("unless", []) or []),
            across_clauses=bool(raw.get("across_clauses", False)),
        )

    @classmethod
    def load(cls, path: Optional[Text] = None) -> "Lexicon":
        with open(path or DEFAULT_LEXICON, encoding="utf-8") as handle:
            spec = yaml.safe_load(handle)
        _check_words(spec)
        return cls(spec)

    # -- matching ---------------------------------------------------------------------------------
    def analyse(self, text: Text) -> Verdict:
        doc = self.nlp.make_doc(_clean(text))
        norms = [token.norm_ for token in doc]
        raw: List[Hit] = []
        masks: List[Tuple[int, int]] = []
        elsewhere: List[Tuple[int, int]] = []
        hypothetical = False
        for match_id, start, end in self.matcher(doc):
            label = self.nlp.vocab.strings[match_id]
            if label == _MASK:
                masks.append((start, end))
            elif label == _ELSEWHERE:
                masks.append((start, end))
                elsewhere.append((start, end))
            elif label == "__hypothetical__":
                hypothetical = True
            else:
                raw.append(Hit(label, start, end))
        clause = self._clauses(norms)
        live = [h for h in raw if not (h.cue in self.negatable and self._negated(h, norms))]
        negated = [h for h in raw if h not in live]
        moved, settled = self._displaced(raw, self._clauses(norms, self.displace_breaks))
        here = [h for h in live if not _inside(h, masks) and h not in moved]
        subjects = [h for h in raw if h.cue == HAZARD_WORDS and not _inside(h, elsewhere) and h not in moved
                    and not _inside(h, [(n.start, n.end) for n in negated])]

        verdict = Verdict(
            alarm_words=sorted({doc[h.start:h.end].text for h in here if h.cue in self.alarm_cues}),
            hazard_words=sorted({doc[h.start:h.end].text for h in subjects}),
        )
        if not hypothetical:
            sure = [h for h in live if not _inside(h, masks) and h not in settled]
            # an `unless` cue about another time does not count ("the small leak from last week is pouring now")
            current = [h for h in live if h not in moved]
            verdict.emergency = self._first(self.emergency_rules, here, current, clause, sure)
        verdict.routine = self._first(self.routine_rules, live, live, clause)
        return verdict

    def _clauses(self, norms: Sequence[Text], breaks: Optional[set] = None) -> List[int]:
        """The clause number of each token (a new clause starts at each clause break)."""
        numbers, current = [], 0
        for norm in norms:
            if norm in (self.clause_breaks if breaks is None else breaks):
                current += 1
            numbers.append(current)
        return numbers

    def _displaced(self, hits: List[Hit], part: List[int]) -> Tuple[List[Hit], List[Hit]]:
        """The hits about somewhere else or some other time: a `by` cue near them in their part of the
        sentence ("the knicks are on fire", "the flood last month"), a `resolved_by` or `settled_by` cue
        anywhere after them ("the hose popped off ... it's fine now"), or an `everywhere_by` cue anywhere
        ("just curious"); unless one of that cue's cancelling cues is near them too ("the flood in my
        apartment", "it's fine now ... it's still leaking"). Returned with the part of them a
        `settled_by` cue moves: those move even the rules that are never displaced."""
        def near(hit: Hit, cues: Iterable[Text]) -> bool:
            return any(
                h.cue in cues and part[h.start] == part[hit.start]
                and max(h.start - hit.end, hit.start - h.end) <= self.displace_window
                for h in hits
            )

        def said(cue: Text, after: Optional[Hit] = None) -> bool:
            return any(h.cue == cue and (after is None or h.start >= after.end) for h in hits)

        context = set().union(*(set(table) for table in self.displacement_tables))
        moved, settled = [], []
        for hit in hits:
            if hit.cue in context:
                continue
            if any(said(cue, after=hit) and not near(hit, off) for cue, off in self.settled_by.items()):
                settled.append(hit)
                moved.append(hit)
            elif (
                any(said(cue, after=hit) and not near(hit, off) for cue, off in self.resolved_by.items())
                or any(near(hit, {cue}) and not near(hit, off) for cue, off in self.displaced_by.items())
                or any(said(cue) and not near(hit, off) for cue, off in self.everywhere_by.items())
            ):
                moved.append(hit)
        return moved, settled

    def _negated(self, hit: Hit, norms: Sequence[Text]) -> bool:
        for i in range(hit.start - 1, max(-1, hit.start - 1 - self.negation_window), -1):
            if norms[i] in self.negation_breaks:
                return False
            if norms[i] in self.negators:
                # "won't stop overflowing", "can't stop the water": a negated stop is no negation
                return not (i + 1 < len(norms) and norms[i + 1] in self.negation_exceptions)
        return False

    def _first(
        self, rules: Iterable[Rule], hits: List[Hit], said: List[Hit], clause: List[int],
        sure: Optional[List[Hit]] = None,
    ) -> Optional[Tuple[Rule, Tuple[Hit, ...]]]:
        """The first rule whose cues are among `hits` (among `sure`, displaced ones too, for the rules
        that are never displaced); a rule's `unless` cues are looked for in `said`: every cue that was said,
        negated ones excepted ("not the chirp, the long alarm")."""
        for rule in rules:
            pool = sure if sure is not None and rule.name in self.never_displaced else hits
            found = self._match(rule, pool, said, clause)
            if found:
                return rule, found
        return None

    @staticmethod
    def _match(rule: Rule, hits: List[Hit], said: List[Hit], clause: List[int]) -> Optional[Tuple[Hit, ...]]:
        candidates = [[h for h in hits if h.cue in group] for group in rule.groups]
        if not all(candidates) or any(h.cue in rule.unless for h in said):
            return None
        for combo in itertools.product(*candidates):
            ordered = sorted(combo, key=lambda h: h.start)
            if rule.ordered and list(combo) != ordered:
                continue
            if not rule.across_clauses and len({clause[h.start] for h in combo}) != 1:
                continue
            between = (max(h.end for h in combo) - min(h.start for h in combo)) - sum(h.end - h.start for h in combo)
            if between <= rule.window:
                return tuple(ordered)
        return None


def _inside(hit: Hit, spans: Sequence[Tuple[int, int]]) -> bool:
    return any(start <= hit.start and hit.end <= end for start, end in spans)


def _check_words(spec: Dict[Text, Any]) -> None:
    """Every word list holds strings: YAML reads a bare no, off, on or yes as a boolean."""
    keys = ("negators", "negation_breaks", "negation_exceptions", "clause_breaks", "not_a_hazard", "elsewhere",
            "hypothetical")
    lists = {key: spec.get(key) or [] for key in keys}
    lists.update({f"cues.{name}": words for name, words in (spec.get("cues") or {}).items()})
    for name, words in lists.items():
        bad = [w for w in words if not isinstance(w, str)]
        if bad:
            raise ValueError(f"emergency lexicon: {name} has {bad}; put quotes around no, off, on, yes and numbers")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class EmergencyMatcher(GraphComponent, IntentClassifier):
    """Promotes unmistakable emergencies to report_emergency (and corrects plainly routine ones)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # the word lists and rules; None: nlu_components/emergency_lexicon.yml
            "lexicon": None,
            # the confidence given to a promoted report_emergency (at least DIET's top confidence)
            "min_confidence": 0.9,
            # correct DIET's report_emergency to report_maintenance when only a routine rule fires
            "demote_routine": True,
            # believe DIET's report_emergency only when the words name a subject of the emergency line
            # (cues.hazard_words or an alarm cue); otherwise take DIET's next intent
            "require_hazard_word": True,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["spacy"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **(config or {})}
        self.lexicon = Lexicon.load(self.config["lexicon"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyMatcher":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._process_one(message)
        return messages

    def _process_one(self, message: Message) -> None:
        text = message.get(TEXT)
        if not text:
            return
        verdict = self.lexicon.analyse(text)
        diet = dict(message.get(INTENT) or {})
        diet_name = diet.get(INTENT_NAME_KEY)
        info: Dict[Text, Any] = {"kind": None, "rule": None, "words": None, "decision": "none", "diet_intent": diet or None}
        if verdict.emergency:
            rule, hits = verdict.emergency
            info.update(kind=rule.hazard, rule=rule.name, words=self._words(message, hits))
            if diet_name == EMERGENCY_INTENT:
                info["decision"] = "confirmed"
                if float(diet.get(PREDICTED_CONFIDENCE_KEY) or 0.0) < float(self.config["min_confidence"]):
                    # DIET agreed but unsure ("hello yes uh there's a fire..." at 0.46 beside greet at 0.43):
                    # the FallbackClassifier would turn it into nlu_fallback. The rule is sure.
                    self._set_top(message, EMERGENCY_INTENT)
            else:
                info["decision"] = "promoted"
                self._set_top(message, EMERGENCY_INTENT)
        elif verdict.routine and diet_name == EMERGENCY_INTENT and self.config["demote_routine"]:
            rule, hits = verdict.routine
            info.update(rule=rule.name, words=self._words(message, hits))
            if verdict.alarm_words:
                info["decision"] = "kept"  # routine words, but also a word that may mean danger: DIET decides
            else:
                info["decision"] = "demoted"
                self._set_top(message, ROUTINE_INTENT, min_confidence=0.0)
        elif diet_name == EMERGENCY_INTENT and self.config["require_hazard_word"]:
            if verdict.alarm_words or verdict.hazard_words:
                info.update(decision="kept", words=" ... ".join(verdict.alarm_words or verdict.hazard_words))
            else:
                runner_up = next(
                    (r.get(INTENT_NAME_KEY) for r in message.get(INTENT_RANKING_KEY) or []
                     if r.get(INTENT_NAME_KEY) != EMERGENCY_INTENT),
                    None,
                )
                if runner_up:
                    info["decision"] = "implausible"  # no subject of the emergency line is named at all
                    self._set_top(message, runner_up, min_confidence=0.0)
        if info["decision"] in ("promoted", "demoted", "implausible"):
            logger.debug(f"EmergencyMatcher {info['decision']} {diet_name} -> {message.get(INTENT)[INTENT_NAME_KEY]} "
                         f"(rule {info['rule']!r}, words {info['words']!r}): {text!r}")
        message.set(HAZARD_KEY, info, add_to_output=True)

    def _words(self, message: Message, hits: Sequence[Hit]) -> Text:
        doc = self.lexicon.nlp.make_doc(_clean(message.get(TEXT)))
        return " ... ".join(doc[h.start:h.end].text for h in hits)

    def _set_top(self, message: Message, intent: Text, min_confidence: Optional[float] = None) -> None:
        """Puts `intent` on top with DIET's top confidence (at least `min_confidence`, by default the
        configured one); the rest of DIET's ranking keeps its order and shares what is left."""
        if min_confidence is None:
            min_confidence = float(self.config["min_confidence"])
        ranking = [dict(r) for r in (message.get(INTENT_RANKING_KEY) or [])]
        top = float((message.get(INTENT) or {}).get(PREDICTED_CONFIDENCE_KEY) or 0.0)
        own = next((float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in ranking if r.get(INTENT_NAME_KEY) == intent), 0.0)
        confidence = max(top, own, min_confidence)
        others = [r for r in ranking if r.get(INTENT_NAME_KEY) != intent]
        mass = sum(float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) for r in others)
        for r in others:
            share = float(r.get(PREDICTED_CONFIDENCE_KEY) or 0.0) / mass if mass > 0 else 0.0
            r[PREDICTED_CONFIDENCE_KEY] = (1.0 - confidence) * share
        chosen = {INTENT_NAME_KEY: intent, PREDICTED_CONFIDENCE_KEY: confidence}
        message.set(INTENT, chosen, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [chosen] + others, add_to_output=True)
