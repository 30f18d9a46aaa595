"""Scripted answers: which text or tool call the stand-in "model" gives to a Chat Completions request.

Why a script and not a model: tests and demos need answers that are known in advance, yet they must be
reached the way a real model is reached (the last thing the caller said, the tools the client offered,
the tool result the client sent back).

The format (YAML; a top-level `rules:` list, or a bare list):

    rules:
      - name: maintenance              # optional; shown in the request log (default "rule-<n>")
        when: "leak|drip|clog"         # case-insensitive regex searched in the LAST user message
        requires_tool: start_maintenance_request   # optional: only when the client offers this tool
        tool:                          # answer with a tool call ...
          name: start_maintenance_request
          arguments: {category: plumbing, description: "{user}"}
      - when: "\\bgym\\b"
        say: "I'm not sure about that one."      # ... or with text
      - after_tool: get_office_hours   # only when the last message is this tool's result ("*": any tool)
        say: "Here's what I found: {tool_result}"
      - say: "Sorry, could you say that again?"  # no `when`: matches anything (put it last)

Rules are tried in order and the first that applies answers. A rule without `after_tool` applies only when
the last message is not a tool result; a rule with it only when it is (its `when`, if any, is still matched
against the last user message). A `tool` rule applies only when that tool is offered in `tools` (a model can
only call offered tools) and `tool_choice` is not "none". A forced `tool_choice` (a function name, or
"required") calls that tool, taking the arguments of the first rule that calls it.

Two placeholders are filled in `say` and in string arguments: `{user}` (the last user message) and
`{tool_result}` (the content of the last tool message). Nothing else is templated.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import yaml

DEFAULT_SCRIPT = Path(__file__).with_name("default_script.yml")
FALLBACK_TEXT = "I'm sorry, I'm not sure about that. Would you like me to connect you with someone at the office?"
RULE_KEYS = {"name", "when", "requires_tool", "after_tool", "say", "tool"}


@dataclass(frozen=True)
class Answer:
    """What the "model" says: text, or one function tool call (arguments as a JSON string)."""

    rule: str
    text: Optional[str] = None
    tool_name: Optional[str] = None
    tool_arguments: Optional[str] = None

    @property
    def is_tool_call(self) -> bool:
        return self.tool_name is not None


@dataclass(frozen=True)
class Rule:
    name: str
    when: Optional["re.Pattern[str]"] = None
    requires_tool: Optional[str] = None
    after_tool: Optional[str] = None
    say: Optional[str] = None
    tool_name: Optional[str] = None
    tool_arguments: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"name": self.name}
        if self.when is not None:
            out["when"] = self.when.pattern
        for key in ("requires_tool", "after_tool", "say"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.tool_name is not None:
            out["tool"] = {"name": self.tool_name, "arguments": dict(self.tool_arguments)}
        return out


def parse_rule(raw: Any, index: int) -> Rule:
    """One rule from its YAML/JSON form; ValueError naming the rule when it is wrong."""
    label = f"rule {index + 1}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{label}: a rule is a mapping with `say` or `tool`, got {type(raw).__name__}")
    label = f"rule {index + 1} ({raw.get('name', 'unnamed')})"
    unknown = sorted(set(raw) - RULE_KEYS)
    if unknown:
        raise ValueError(f"{label}: unknown keys {unknown}; known: {sorted(RULE_KEYS)}")
    if ("say" in raw) == ("tool" in raw):
        raise ValueError(f"{label}: give exactly one of `say` (text) or `tool` (a tool call)")
    when = None
    if raw.get("when") is not None:
        try:
            when = re.compile(str(raw["when"]), re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"{label}: `when` is not a valid regex: {exc}") from None
    for key in ("requires_tool", "after_tool", "say"):
        if key in raw and not isinstance(raw[key], str):
            raise ValueError(f"{label}: `{key}` must be a string")
    tool_name, arguments = None, {}
    if "tool" in raw:
        tool = raw["tool"]
        if not isinstance(tool, Mapping) or not isinstance(tool.get("name"), str):
            raise ValueError(f"{label}: `tool` needs a `name` (string) and optional `arguments` (mapping)")
        arguments = tool.get("arguments") or {}
        if not isinstance(arguments, Mapping):
            raise ValueError(f"{label}: `tool.arguments` must be a mapping")
        tool_name = tool["name"]
    return Rule(name=str(raw.get("name") or f"rule-{index + 1}"), when=when, requires_tool=raw.get("requires_tool"),
                after_tool=raw.get("after_tool"), say=raw.get("say"), tool_name=tool_name,
                tool_arguments=dict(arguments))


def parse_rules(data: Any) -> List[Rule]:
    if isinstance(data, Mapping):
        if set(data) - {"rules"}:
            raise ValueError("a script is a mapping with one key, `rules`, or a bare list of rules")
        data = data.get("rules")
    if not isinstance(data, list):
        raise ValueError("a script needs a list of rules under `rules:`")
    return [parse_rule(raw, index) for index, raw in enumerate(data)]


def load_rules(path: Optional[str] = None) -> List[Rule]:
    """The rules of the YAML file at `path` (None: the packaged default_script.yml)."""
    file = Path(path) if path else DEFAULT_SCRIPT
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read script {file}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"script {file} is not valid YAML: {exc}") from None
    try:
        return parse_rules(data)
    except ValueError as exc:
        raise ValueError(f"script {file}: {exc}") from None


def message_text(message: Mapping[str, Any]) -> str:
    """The text of a message whose content is a string or a list of parts ({"type": "text", "text": ...})."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content
                        if isinstance(part, Mapping) and part.get("type") == "text")
    return ""


def offered_tools(body: Mapping[str, Any]) -> List[str]:
    names = []
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if isinstance(function, Mapping) and isinstance(function.get("name"), str):
            names.append(function["name"])
    return names


def tool_result_name(messages: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """The function name behind the last message when it is a tool result (found by its tool_call_id)."""
    last = messages[-1]
    call_id = last.get("tool_call_id")
    for message in reversed(messages[:-1]):
        for call in message.get("tool_calls") or []:
            if isinstance(call, Mapping) and call.get("id") == call_id:
                return (call.get("function") or {}).get("name")
    return last.get("name")  # the legacy `function` role carried its name


def _fill(value: Any, slots: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for key, text in slots.items():
            value = value.replace("{" + key + "}", text)
        return value
    if isinstance(value, Mapping):
        return {key: _fill(item, slots) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, slots) for item in value]
    return value


class Script:
    """An ordered list of rules and the choice of an answer for one request body."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = list(rules)

    def answer(self, body: Mapping[str, Any]) -> Answer:
        messages = [m for m in body.get("messages") or [] if isinstance(m, Mapping)]
        user = next((message_text(m) for m in reversed(messages) if m.get("role") == "user"), "")
        is_tool_result = bool(messages) and messages[-1].get("role") in ("tool", "function")
        slots = {"user": user, "tool_result": message_text(messages[-1]) if is_tool_result else ""}
        after = tool_result_name(messages) if is_tool_result else None
        tools = offered_tools(body)
        choice = body.get("tool_choice")
        forced = None
        if isinstance(choice, Mapping):
            forced = (choice.get("function") or {}).get("name")
        elif choice == "required" and tools:
            forced = "*"

        def usable(rule: Rule, check_when: bool) -> bool:
            if rule.requires_tool and rule.requires_tool not in tools:
                return False
            if rule.tool_name and (rule.tool_name not in tools or choice == "none"):
                return False
            if (rule.after_tool is not None) != is_tool_result:
                return False
            if rule.after_tool not in (None, "*", after):
                return False
            return not check_when or rule.when is None or bool(rule.when.search(user))

        if forced:
            wanted = [r for r in self.rules if r.tool_name and forced in ("*", r.tool_name)]
            rule = next((r for r in wanted if usable(r, True)), None) or next(
                (r for r in wanted if r.tool_name in tools), None)
            if rule is not None:
                return self._render(rule, slots)
            name = tools[0] if forced == "*" else forced
            return Answer(rule="forced-tool-choice", tool_name=name, tool_arguments="{}")
        rule = next((r for r in self.rules if usable(r, True)), None)
        if rule is None:
            return Answer(rule="built-in-fallback", text=FALLBACK_TEXT)
        return self._render(rule, slots)

    @staticmethod
    def _render(rule: Rule, slots: Mapping[str, str]) -> Answer:
        if rule.tool_name is not None:
            arguments = json.dumps(_fill(dict(rule.tool_arguments), slots), ensure_ascii=False,
                                   separators=(",", ":"))
            return Answer(rule=rule.name, tool_name=rule.tool_name, tool_arguments=arguments)
        return Answer(rule=rule.name, text=_fill(rule.say or "", slots))

    def as_list(self) -> List[Dict[str, Any]]:
        return [rule.as_dict() for rule in self.rules]
