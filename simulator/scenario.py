"""Scenario files: a scripted call with what the caller must hear and what must happen.

A scenario is a YAML file:

```yaml
name: tenant reports a leak          # optional (default: the file name)
note: needs the office open          # optional; printed before the call
caller: "+17185550134"               # optional: the caller's number (--from overrides it)
to: "+17184146984"                   # optional: the number called (--to overrides it)
mode: relay                          # optional: relay (ConversationRelay) | gather; --gather forces gather
timeout: 15                          # optional: seconds to wait for each reply
steps:
  - expect: ["Maria"]                # a first step with no action checks the greeting
  - say: "um my kitchen sink is leaking"
    expect: ["let themselves in"]    # every phrase must be heard (case, punctuation and spacing ignored)
  - say: "yes"
    expect: [["pets", "anything else"]]  # a list inside the list: any one of these phrases
    expect_not: ["sorry"]            # none of these may be heard
    max_first_ms: 1500               # latency budgets (ms from our frame to the first / the last text)
    max_ms: 4000
  - dtmf: "0"                        # one key: 0-9, * or #
  - interrupt: "If you're not"       # the caller cut in after hearing this much
    no_reply: true                   # nothing may be said in answer
  - silence: 6                       # say nothing for 6 s; expect what the assistant says on its own
    expect: ["still there"]
  - junk: malformed_json             # a frame Twilio never sends; the call must go on
  - hangup: true                     # the caller hangs up (otherwise they do after the last step)
outcome:
  end: transfer                      # transfer | hangup (the assistant ended the call) | none (it did not)
  dial: "${ONCALL_NUMBER:-+17184146984}"  # the <Dial> number; ${VAR} and ${VAR:-default} are expanded
  issue: {priority: Emergency, category: Emergency, text: "gas"}  # a service issue filed during the call
  # no_issue: true                   # (instead of issue) nothing was filed
  history: "Message taken"           # a Rent Manager history note with this text was filed
  wait: 8                            # seconds to allow the assistant's outbox for the checks above
```

Step numbers in messages count from 1 in the order of `steps:`. Junk kinds: malformed_json,
unknown_type, missing_type, wrong_types, oversized (a ~100 KB prompt), empty, binary. In Gather
mode `interrupt` and `junk` are skipped (they have no meaning there).

Every step also fails when the reply never ended (`last: true` never came), when the assistant
sent a frame Twilio would drop, when the relay dropped without an `end`, or when Twilio would not
have passed the action on (a key with no `dtmfDetection`). The issue and history checks read Rent
Manager before and after the call, so run scenarios one at a time against one Rent Manager.
"""
from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import httpx
import yaml

from simulator.call import (
    JUNK_KINDS, CallConfig, CallEnded, CallError, CallRefused, CallUnreachable, Reply, SimulatedCall,
)

ACTIONS = ("say", "dtmf", "interrupt", "silence", "junk", "hangup")
CHECK_KEYS = ("expect", "expect_not", "no_reply", "max_first_ms", "max_ms", "timeout")
TOP_KEYS = ("name", "note", "caller", "to", "mode", "timeout", "steps", "outcome")
OUTCOME_KEYS = ("end", "dial", "issue", "no_issue", "history", "wait")
ISSUE_KEYS = ("priority", "category", "text")
END_KINDS = ("transfer", "hangup", "none")
DTMF_KEYS = set("0123456789*#")
DEFAULT_OUTCOME_WAIT = 8.0
NO_ISSUE_WAIT = 3.0

Phrase = Union[str, Tuple[str, ...]]  # a phrase, or alternatives of which one must be heard
Fail = Callable[[str], "ScenarioError"]  # makes the error for a message, naming the file


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message names the file, the step and the fix."""


class SetupError(Exception):
    """Something the scenario needs before the call is unreachable (Rent Manager for outcome checks)."""


@dataclass(frozen=True)
class Step:
    index: int  # from 1
    action: Optional[str]  # None: the greeting
    value: Any = None
    expect: Tuple[Phrase, ...] = ()
    expect_not: Tuple[str, ...] = ()
    no_reply: bool = False
    max_first_ms: Optional[float] = None
    max_ms: Optional[float] = None
    timeout: Optional[float] = None

    def describe(self) -> str:
        if self.action is None:
            return "greeting"
        if self.action == "hangup":
            return "hangup"
        value = f"{self.value:g} s" if isinstance(self.value, (int, float)) else f'"{self.value}"'
        return f"{self.action} {value}"


@dataclass(frozen=True)
class IssueExpectation:
    priority: Optional[str] = None
    category: Optional[str] = None
    text: Optional[str] = None

    def describe(self) -> str:
        parts = [f"{name} {value!r}" for name, value in
                 (("priority", self.priority), ("category", self.category), ("text", self.text)) if value]
        return "a service issue" + (" with " + ", ".join(parts) if parts else "")


@dataclass(frozen=True)
class Outcome:
    end: Optional[str] = None
    dial: Optional[str] = None
    issue: Optional[IssueExpectation] = None
    no_issue: bool = False
    history: Optional[str] = None
    wait: float = DEFAULT_OUTCOME_WAIT

    @property
    def needs_rentmanager(self) -> bool:
        return self.issue is not None or self.no_issue or self.history is not None


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: Tuple[Step, ...]
    outcome: Outcome = Outcome()
    caller: Optional[str] = None
    to: Optional[str] = None
    mode: Optional[str] = None
    timeout: Optional[float] = None
    note: Optional[str] = None
    path: Optional[str] = None

    @property
    def greeting(self) -> Optional[Step]:
        return self.steps[0] if self.steps and self.steps[0].action is None else None

    @property
    def actions(self) -> Tuple[Step, ...]:
        return tuple(step for step in self.steps if step.action is not None)


# -- loading -----------------------------------------------------------------------------------

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^${}]*))?\}")


def expand(text: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """`${NAME}` and `${NAME:-default}` from the environment, innermost first (so defaults may nest)."""
    env = os.environ if environ is None else environ

    def value(match: "re.Match[str]") -> str:
        found = env.get(match.group(1))
        return found if found else (match.group(2) or "")

    while True:
        expanded = _VARIABLE.sub(value, text)
        if expanded == text:
            return expanded
        text = expanded


def load_scenario(path: Union[str, Path], environ: Optional[Mapping[str, str]] = None) -> Scenario:
    """Reads and checks a scenario file; ScenarioError names what is wrong and where."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the scenario ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(f"{path}: not valid YAML: {exc}") from None
    return parse_scenario(raw, source=str(path), environ=environ)


def parse_scenario(raw: Any, source: str = "scenario", environ: Optional[Mapping[str, str]] = None) -> Scenario:
    def fail(message: str) -> ScenarioError:
        return ScenarioError(f"{source}: {message}")

    if not isinstance(raw, dict):
        raise fail("a scenario is a mapping with at least `steps:`")
    unknown = sorted(set(raw) - set(TOP_KEYS))
    if unknown:
        raise fail(f"unknown key(s) {', '.join(map(str, unknown))}; the keys are {', '.join(TOP_KEYS)}")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise fail("`steps:` must be a non-empty list")
    steps = tuple(_step(item, number, fail) for number, item in enumerate(steps_raw, start=1))
    for step in steps[1:]:
        if step.action is None:
            raise fail(f"step {step.index}: no action (one of {', '.join(ACTIONS)}); "
                       "only the first step may be a bare `expect` (the greeting)")
    for step in steps[:-1]:
        if step.action == "hangup":
            raise fail(f"step {step.index}: `hangup` must be the last step")
    mode = raw.get("mode")
    if mode is not None and mode not in ("relay", "gather"):
        raise fail(f"mode must be relay or gather, not {mode!r}")
    name = raw.get("name") or Path(source).stem
    return Scenario(
        name=str(name), steps=steps, outcome=_outcome(raw.get("outcome"), fail, environ),
        caller=_text(raw, "caller", fail, environ), to=_text(raw, "to", fail, environ), mode=mode,
        timeout=_positive(raw.get("timeout"), "timeout", fail), note=_text(raw, "note", fail, environ),
        path=source,
    )


def _step(item: Any, number: int, fail: Fail) -> Step:
    where = f"step {number}"
    if not isinstance(item, dict):
        raise fail(f"{where}: a step is a mapping like `- say: \"hello\"`, got {item!r}")
    unknown = sorted(set(item) - set(ACTIONS) - set(CHECK_KEYS), key=str)
    if unknown:
        raise fail(f"{where}: unknown key(s) {', '.join(map(str, unknown))}; "
                   f"actions are {', '.join(ACTIONS)}, checks are {', '.join(CHECK_KEYS)}")
    actions = [key for key in ACTIONS if key in item]
    if len(actions) > 1:
        raise fail(f"{where}: one action per step, found {' and '.join(actions)}")
    action = actions[0] if actions else None
    value = item.get(action) if action else None
    if action == "say" or action == "interrupt":
        if not isinstance(value, str) or not value.strip():
            raise fail(f"{where}: `{action}` needs the caller's words as text, got {value!r}")
    elif action == "dtmf":
        value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(value, str) or len(value) != 1 or value not in DTMF_KEYS:
            raise fail(f"{where}: `dtmf` is one key, 0-9, * or # (quote it: dtmf: \"0\"), got {value!r}")
    elif action == "silence":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 120:
            raise fail(f"{where}: `silence` is a number of seconds between 0 and 120, got {value!r}")
    elif action == "junk":
        if value not in JUNK_KINDS:
            raise fail(f"{where}: `junk` is one of {', '.join(JUNK_KINDS)}, got {value!r}")
    elif action == "hangup":
        if value is not True:
            raise fail(f"{where}: write `hangup: true`")
    if action is None and "expect" not in item and "expect_not" not in item:
        raise fail(f"{where}: no action; give one of {', '.join(ACTIONS)}")
    no_reply = item.get("no_reply", False)
    if not isinstance(no_reply, bool):
        raise fail(f"{where}: `no_reply` is true or false, got {no_reply!r}")
    expect = _phrases(item.get("expect"), f"{where}: `expect`", fail, allow_alternatives=True)
    if no_reply and expect:
        raise fail(f"{where}: `no_reply` and `expect` contradict each other")
    return Step(
        index=number, action=action, value=value, expect=expect,
        expect_not=_phrases(item.get("expect_not"), f"{where}: `expect_not`", fail, allow_alternatives=False),
        no_reply=no_reply,
        max_first_ms=_positive(item.get("max_first_ms"), f"{where}: max_first_ms", fail),
        max_ms=_positive(item.get("max_ms"), f"{where}: max_ms", fail),
        timeout=_positive(item.get("timeout"), f"{where}: timeout", fail),
    )


def _phrases(raw: Any, where: str, fail: Fail, allow_alternatives: bool) -> Tuple[Any, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise fail(f"{where} is a phrase or a list of phrases, got {raw!r}")
    phrases: List[Phrase] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            phrases.append(item)
        elif allow_alternatives and isinstance(item, list) and item \
                and all(isinstance(alt, str) and alt.strip() for alt in item):
            phrases.append(tuple(item))
        else:
            hint = " (or a list of alternatives)" if allow_alternatives else ""
            raise fail(f"{where}: each entry is a non-empty phrase{hint}, got {item!r}")
    return tuple(phrases)


def _positive(raw: Any, where: str, fail: Fail) -> Optional[float]:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
        raise fail(f"{where} must be a positive number, got {raw!r}")
    return float(raw)


def _text(raw: Mapping[str, Any], key: str, fail: Fail, environ: Optional[Mapping[str, str]]) -> Optional[str]:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise fail(f"`{key}` must be text, got {value!r}")
    return expand(str(value), environ)


def _outcome(raw: Any, fail: Fail, environ: Optional[Mapping[str, str]]) -> Outcome:
    if raw is None:
        return Outcome()
    if not isinstance(raw, dict):
        raise fail("`outcome:` is a mapping (end, dial, issue, no_issue, history, wait)")
    unknown = sorted(set(raw) - set(OUTCOME_KEYS), key=str)
    if unknown:
        raise fail(f"outcome: unknown key(s) {', '.join(map(str, unknown))}; the keys are {', '.join(OUTCOME_KEYS)}")
    end = raw.get("end")
    if end is False or end is None and "end" in raw:
        end = "none"  # YAML reads a bare `none` as a string, but `null`/`false` mean the same
    if end is not None and end not in END_KINDS:
        raise fail(f"outcome: end is one of {', '.join(END_KINDS)}, got {end!r}")
    dial = _text(raw, "dial", lambda m: fail(f"outcome: {m}"), environ)
    if dial is not None:
        if end is None:
            end = "transfer"
        elif end != "transfer":
            raise fail(f"outcome: a `dial` number needs end: transfer, not {end}")
    issue = raw.get("issue")
    expectation = None
    if issue is not None:
        if not isinstance(issue, dict):
            raise fail("outcome: `issue` is a mapping, e.g. {priority: Emergency}")
        bad = sorted(set(issue) - set(ISSUE_KEYS), key=str)
        if bad:
            raise fail(f"outcome: issue: unknown key(s) {', '.join(map(str, bad))}; the keys are {', '.join(ISSUE_KEYS)}")
        for key, value in issue.items():
            if not isinstance(value, str) or not value.strip():
                raise fail(f"outcome: issue: {key} must be text, got {value!r}")
        expectation = IssueExpectation(**issue)
    no_issue = raw.get("no_issue", False)
    if not isinstance(no_issue, bool):
        raise fail(f"outcome: no_issue is true or false, got {no_issue!r}")
    if no_issue and expectation is not None:
        raise fail("outcome: `issue` and `no_issue` contradict each other")
    history = _text(raw, "history", lambda m: fail(f"outcome: {m}"), environ)
    wait = _positive(raw.get("wait"), "outcome: wait", fail)
    return Outcome(end=end, dial=dial, issue=expectation, no_issue=no_issue, history=history,
                   wait=wait if wait is not None else DEFAULT_OUTCOME_WAIT)


# -- expectations ------------------------------------------------------------------------------

def normalize(text: str) -> str:
    """Lower case, straight quotes, no punctuation but apostrophes, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = re.sub(r"[^\w\s']", " ", text)
    return " ".join(text.split())


def heard(text: str, phrase: str) -> bool:
    """Whether `phrase` was said in `text`, ignoring case, punctuation and spacing."""
    return f" {normalize(phrase)} " in f" {normalize(text)} "


def check_reply(step: Step, reply: Reply) -> List[str]:
    """What went wrong in one reply, as messages a person can act on; empty when all is well."""
    failures: List[str] = []
    said = reply.text
    quoted = f'"{said}"' if said.strip() else "nothing"
    if reply.undelivered:
        failures.append(f"not delivered: {reply.undelivered}")
    for phrase in step.expect:
        if isinstance(phrase, tuple):
            if not any(heard(said, alt) for alt in phrase):
                options = ", ".join(f'"{alt}"' for alt in phrase)
                failures.append(f"expected one of {options}; heard {quoted}")
        elif not heard(said, phrase):
            failures.append(f'expected "{phrase}"; heard {quoted}')
    for phrase in step.expect_not:
        if heard(said, phrase):
            failures.append(f'did not expect "{phrase}"; heard {quoted}')
    if step.no_reply and said.strip():
        failures.append(f"expected no reply; heard {quoted}")
    if reply.timed_out:
        failures.append("the reply never ended: no text frame with last: true before the timeout")
    failures.extend(f"invalid frame from the assistant: {problem}" for problem in reply.invalid)
    if reply.closed:
        failures.append(reply.closed)
    if step.action == "junk" and reply.ended:
        failures.append(f"the call did not go on after the junk frame (it ended: {reply.end})")
    if step.max_first_ms is not None and (reply.first_ms is None or reply.first_ms > step.max_first_ms):
        failures.append(f"first text after {_ms(reply.first_ms)}; the budget is {step.max_first_ms:.0f} ms")
    if step.max_ms is not None and (reply.last_ms is None or reply.last_ms > step.max_ms):
        failures.append(f"whole reply after {_ms(reply.last_ms)}; the budget is {step.max_ms:.0f} ms")
    return failures


def _ms(value: Optional[float]) -> str:
    return "never" if value is None else f"{value:.0f} ms"


# -- Rent Manager ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Baseline:
    issue_id: int
    history_id: int


class RentManagerCheck:
    """Reads Rent Manager the way an office person would, to see what the call filed."""

    def __init__(self, base_url: str, username: str, password: str, location_id: int = 1,
                 timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self.password, self.location_id = username, password, location_id
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)
        self._token: Optional[str] = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _login(self) -> str:
        body = {"Username": self.username, "Password": self.password, "LocationID": self.location_id}
        response = await self._send("POST", "/Authentication/AuthorizeUser", json=body)
        if response.status_code != 200:
            raise SetupError(f"Rent Manager at {self.base_url} refused the login "
                             f"{self.username!r} (HTTP {response.status_code}): {response.text[:200]}")
        self._token = response.json()
        return self._token

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SetupError(f"cannot reach Rent Manager at {self.base_url} ({exc or type(exc).__name__}); "
                             "start the stand-in or pass --rentmanager-url") from None

    async def get(self, path: str, **params: Any) -> List[Dict[str, Any]]:
        """A list resource; 204 is an empty list; one re-login when the token has expired."""
        for attempt in range(2):
            token = self._token or await self._login()
            response = await self._send("GET", path, params=params, headers={"X-RM12Api-ApiToken": token})
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            if response.status_code == 204:
                return []
            if response.status_code != 200:
                raise SetupError(f"Rent Manager GET {path} answered HTTP {response.status_code}: {response.text[:200]}")
            data = response.json()
            return data if isinstance(data, list) else [data]
        raise SetupError(f"Rent Manager GET {path}: the token was refused twice")

    async def _max_id(self, path: str, id_field: str) -> int:
        highest, page = 0, 1
        while True:
            rows = await self.get(path, fields=id_field, pagesize=1000, pagenumber=page)
            highest = max([highest] + [int(row.get(id_field) or 0) for row in rows])
            if len(rows) < 1000:
                return highest
            page += 1

    async def baseline(self) -> Baseline:
        return Baseline(issue_id=await self._max_id("/ServiceManagerIssues", "ServiceManagerIssueID"),
                        history_id=await self._max_id("/HistoryNotes", "HistoryID"))

    async def new_issues(self, after: int) -> List[Dict[str, Any]]:
        """Issues filed after the baseline, with `PriorityName` and `CategoryName` added."""
        rows = await self.get("/ServiceManagerIssues", filters=f"ServiceManagerIssueID,gt,{after}", pagesize=1000)
        if not rows:
            return []
        priorities = {row["ServiceManagerPriorityID"]: row.get("Name", "")
                      for row in await self.get("/ServiceManagerPriorities")}
        categories = {row["ServiceManagerCategoryID"]: row.get("Name", "")
                      for row in await self.get("/ServiceManagerCategories")}
        for row in rows:
            row["PriorityName"] = priorities.get(row.get("PriorityID"), f"#{row.get('PriorityID')}")
            row["CategoryName"] = categories.get(row.get("CategoryID"), f"#{row.get('CategoryID')}")
        return sorted(rows, key=lambda row: row["ServiceManagerIssueID"])

    async def new_history(self, after: int) -> List[Dict[str, Any]]:
        rows = await self.get("/HistoryNotes", filters=f"HistoryID,gt,{after}", pagesize=1000)
        return sorted(rows, key=lambda row: row["HistoryID"])


def issue_matches(issue: Mapping[str, Any], expected: IssueExpectation) -> bool:
    if expected.priority and normalize(str(issue.get("PriorityName", ""))) != normalize(expected.priority):
        return False
    if expected.category and normalize(str(issue.get("CategoryName", ""))) != normalize(expected.category):
        return False
    if expected.text:
        words = f"{issue.get('Title', '')} {issue.get('Description', '')}"
        if not heard(words, expected.text):
            return False
    return True


def describe_issue(issue: Mapping[str, Any]) -> str:
    return (f"#{issue.get('ServiceManagerIssueID')} \"{issue.get('Title', '')}\" "
            f"priority {issue.get('PriorityName')}, category {issue.get('CategoryName')}")


# -- running -----------------------------------------------------------------------------------

class Listener:
    """Hears the scenario as it runs; the CLI prints, tests may collect. Every method is optional."""

    def started(self, scenario: Scenario, call: SimulatedCall) -> None: ...

    def action(self, step: Step) -> None: ...

    def reply(self, step: Step, reply: Reply) -> None: ...

    def check(self, passed: bool, message: str) -> None: ...


@dataclass
class StepResult:
    step: Step
    reply: Optional[Reply]
    failures: List[str] = field(default_factory=list)


@dataclass
class ScenarioResult:
    scenario: Scenario
    steps: List[StepResult] = field(default_factory=list)
    outcome_failures: List[str] = field(default_factory=list)
    outcome_passes: List[str] = field(default_factory=list)
    call: Optional[SimulatedCall] = None

    @property
    def failures(self) -> List[str]:
        found = [f"step {r.step.index} ({r.step.describe()}): {failure}" for r in self.steps for failure in r.failures]
        return found + [f"outcome: {failure}" for failure in self.outcome_failures]

    @property
    def passed(self) -> bool:
        return not self.failures


async def run_scenario(
    scenario: Scenario,
    config: CallConfig,
    rentmanager: Optional[RentManagerCheck] = None,
    listener: Optional[Listener] = None,
    http: Optional[httpx.AsyncClient] = None,
) -> ScenarioResult:
    """Plays the scenario as one call and checks it.

    Raises CallUnreachable or CallRefused when the channel cannot be reached or refuses the
    signature at the start, and SetupError when the outcome needs Rent Manager and it cannot be
    read: the CLI turns these into exit code 2 (the set-up is wrong, not the assistant).
    """
    out = listener or Listener()
    result = ScenarioResult(scenario=scenario)
    baseline: Optional[Baseline] = None
    if scenario.outcome.needs_rentmanager:
        if rentmanager is None:
            raise SetupError("this scenario checks Rent Manager; give --rentmanager-url")
        baseline = await rentmanager.baseline()
    call = SimulatedCall(config, http=http)
    result.call = call
    out.started(scenario, call)
    try:
        greeting = scenario.greeting or Step(index=0, action=None)
        try:
            reply = await call.start()
        except (CallUnreachable, CallRefused):
            await call.hangup()
            raise
        except CallError as exc:
            _record(result, out, greeting, None, [f"the call could not start: {exc}"])
            await call.hangup()
            return result
        out.reply(greeting, reply)
        _record(result, out, greeting, reply, check_reply(greeting, reply))
        for step in scenario.actions:
            if call.ended:
                _record(result, out, step, None, [f"the call was already over ({call.end}) before this step"])
                break
            out.action(step)
            try:
                reply = await _perform(call, step)
            except CallEnded as exc:
                _record(result, out, step, None, [str(exc)])
                break
            except CallError as exc:
                _record(result, out, step, None, [f"the call broke: {exc}"])
                break
            out.reply(step, reply)
            _record(result, out, step, reply, check_reply(step, reply))
    finally:
        closing = await call.hangup()
    if closing.text or closing.end or closing.stale:
        out.reply(Step(index=0, action="hangup"), closing)
    _check_end(scenario.outcome, call, call.end, result, out)
    if call.status_callback is not None and not 200 <= call.status_callback < 300:
        _report(result, out, False, f"the status callback was refused: {call.warnings[-1] if call.warnings else ''}")
    if baseline is not None and rentmanager is not None:
        await _check_rentmanager(scenario.outcome, rentmanager, baseline, result, out)
    return result


async def _perform(call: SimulatedCall, step: Step) -> Reply:
    saved = call.config.timeout
    if step.timeout is not None:
        call.config.timeout = step.timeout
    try:
        if step.action == "say":
            return await call.say(step.value)
        if step.action == "dtmf":
            return await call.dtmf(step.value)
        if step.action == "interrupt":
            return await call.interrupt(step.value)
        if step.action == "silence":
            return await call.silence(float(step.value))
        if step.action == "junk":
            return await call.junk(step.value)
        return await call.hangup()
    finally:
        call.config.timeout = saved


def _record(result: ScenarioResult, out: Listener, step: Step, reply: Optional[Reply], failures: List[str]) -> None:
    result.steps.append(StepResult(step=step, reply=reply, failures=failures))
    for failure in failures:
        out.check(False, f"step {step.index} ({step.describe()}): {failure}")
    if not failures and (step.expect or step.expect_not or step.no_reply):
        out.check(True, f"step {step.index} ({step.describe()}): {_expected(step)}")


def _expected(step: Step) -> str:
    parts = []
    for phrase in step.expect:
        parts.append("heard " + (" or ".join(f'"{alt}"' for alt in phrase) if isinstance(phrase, tuple)
                                 else f'"{phrase}"'))
    parts.extend(f'did not hear "{phrase}"' for phrase in step.expect_not)
    if step.no_reply:
        parts.append("no reply")
    return ", ".join(parts)


def _report(result: ScenarioResult, out: Listener, passed: bool, message: str) -> None:
    (result.outcome_passes if passed else result.outcome_failures).append(message)
    out.check(passed, f"outcome: {message}")


def _check_end(outcome: Outcome, call: SimulatedCall, end: Optional[str], result: ScenarioResult,
               out: Listener) -> None:
    actual = {"transfer": "transfer", "hangup": "hangup", None: "none", "caller": "none"}.get(end, end)
    dialled = call.dial.number if call.dial else None
    described = {"transfer": f"transfer to {dialled}", "none": "it did not end (the caller hung up)",
                 "hangup": "hangup", "dropped": "the relay dropped"}.get(actual, actual)
    if outcome.end is not None:
        _report(result, out, outcome.end == actual,
                 f"end {outcome.end}" + ("" if outcome.end == actual else f"; the call ended: {described}"))
    if outcome.dial is not None:
        same = dialled is not None and _digits(dialled) == _digits(outcome.dial)
        _report(result, out, same, f"dial {outcome.dial}" + ("" if same else f"; dialled: {dialled or 'nobody'}"))


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


async def _check_rentmanager(outcome: Outcome, rentmanager: RentManagerCheck, baseline: Baseline,
                             result: ScenarioResult, out: Listener) -> None:
    try:
        if outcome.issue is not None:
            issues = await _poll(lambda: rentmanager.new_issues(baseline.issue_id),
                                 lambda rows: any(issue_matches(row, outcome.issue) for row in rows), outcome.wait)
            found = [row for row in issues if issue_matches(row, outcome.issue)]
            if found:
                _report(result, out, True, f"{outcome.issue.describe()}: {describe_issue(found[0])}")
            else:
                filed = "; ".join(describe_issue(row) for row in issues) or "nothing"
                _report(result, out, False, f"expected {outcome.issue.describe()} within {outcome.wait:g} s; "
                                             f"filed: {filed}")
        if outcome.no_issue:
            await asyncio.sleep(min(outcome.wait, NO_ISSUE_WAIT))
            issues = await rentmanager.new_issues(baseline.issue_id)
            _report(result, out, not issues, "no service issue filed" if not issues else
                     "expected no service issue; filed: " + "; ".join(describe_issue(row) for row in issues))
        if outcome.history is not None:
            notes = await _poll(lambda: rentmanager.new_history(baseline.history_id),
                                lambda rows: any(heard(str(row.get("Note", "")), outcome.history) for row in rows),
                                outcome.wait)
            match = [row for row in notes if heard(str(row.get("Note", "")), outcome.history)]
            if match:
                _report(result, out, True, f"history note with \"{outcome.history}\": #{match[0].get('HistoryID')}")
            else:
                filed = "; ".join(f"#{row.get('HistoryID')} \"{str(row.get('Note', ''))[:80]}\"" for row in notes)
                _report(result, out, False, f"expected a history note with \"{outcome.history}\" within "
                                             f"{outcome.wait:g} s; filed: {filed or 'nothing'}")
    except SetupError as exc:
        _report(result, out, False, f"Rent Manager could not be read after the call: {exc}")


Rows = List[Dict[str, Any]]


async def _poll(fetch: Callable[[], Awaitable[Rows]], done: Callable[[Rows], bool], seconds: float) -> Rows:
    deadline = time.monotonic() + seconds
    while True:
        rows = await fetch()
        if done(rows) or time.monotonic() >= deadline:
            return rows
        await asyncio.sleep(0.5)


def scenario_files(paths: Sequence[Union[str, Path]]) -> List[Path]:
    """Files named on the command line; a directory means every *.yml in it."""
    found: List[Path] = []
    for entry in map(Path, paths):
        found.extend(sorted(entry.glob("*.yml")) if entry.is_dir() else [entry])
    return found
