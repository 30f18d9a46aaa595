"""`python -m simulator`: place a simulated Twilio call, typed by hand or played from scenario files.

Exit codes: 0 every scenario passed (or the interactive call ended normally), 1 a scenario failed
(or the interactive call broke), 2 a usage error, a bad scenario file, nothing answering at the
Rasa server or Rent Manager, or the channel refusing the signature of the first request.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, TextIO

import httpx

from simulator import twiml
from simulator.call import (
    DEFAULT_CALLED, DEFAULT_CALLER, DEFAULT_TIMEOUT, JUNK_KINDS, CallConfig, CallError, CallRefused,
    CallUnreachable, Reply, SimulatedCall, join_tokens,
)
from simulator.scenario import (
    DTMF_KEYS, Listener, RentManagerCheck, Scenario, ScenarioError, SetupError, Step, load_scenario, run_scenario,
    scenario_files,
)

HELP_LINE = ("Type what the caller says. Commands: /dtmf 0, /interrupt <heard text>, /silence 8, "
             f"/junk <{'|'.join(JUNK_KINDS)}>, /listen, /hangup")


def build_parser(environ: Mapping[str, str]) -> argparse.ArgumentParser:
    rasa_url = environ.get("RASA_URL") or f"http://127.0.0.1:{environ.get('RASA_PORT') or 5005}"
    rm_url = environ.get("RENT_MANAGER_BASE_URL") or \
        f"http://127.0.0.1:{environ.get('RENT_MANAGER_STANDIN_PORT') or 5100}"
    parser = argparse.ArgumentParser(
        prog="python -m simulator",
        description="Plays Twilio against the phone channel: a call you type, or scenario files with expectations.",
    )
    parser.add_argument("--rasa-url", default=rasa_url,
                        help="where the channel's /webhooks/twilio/... routes are served [RASA_URL or "
                             "http://127.0.0.1:${RASA_PORT:-5005}]")
    parser.add_argument("--public-base-url", default=environ.get("PUBLIC_BASE_URL") or None,
                        help="the https origin Twilio would use; signatures are computed over it "
                             "[PUBLIC_BASE_URL, else the Rasa URL]")
    parser.add_argument("--auth-token", default=environ.get("TWILIO_AUTH_TOKEN") or None,
                        help="sign requests with this Auth Token [TWILIO_AUTH_TOKEN; unset: unsigned]")
    parser.add_argument("--account-sid", default=environ.get("TWILIO_ACCOUNT_SID") or None,
                        help="AccountSid to send [TWILIO_ACCOUNT_SID, else a random AC...]")
    parser.add_argument("--from", dest="caller", default=None,
                        help=f"the caller's number [the scenario's caller, else {DEFAULT_CALLER}]")
    parser.add_argument("--to", dest="called", default=None,
                        help=f"the number called [the scenario's, else {DEFAULT_CALLED}]")
    parser.add_argument("--scenario", action="append", metavar="FILE",
                        help="play a scenario file (or every *.yml in a directory); repeatable. "
                             "Without it the call is interactive")
    parser.add_argument("--gather", action="store_true", help="use the <Gather> fallback instead of the relay")
    parser.add_argument("--rentmanager-url", default=rm_url,
                        help="Rent Manager for outcome checks [RENT_MANAGER_BASE_URL or "
                             "http://127.0.0.1:${RENT_MANAGER_STANDIN_PORT:-5100}]")
    parser.add_argument("--rm-username", default=environ.get("RENT_MANAGER_USERNAME") or "api",
                        help="[RENT_MANAGER_USERNAME or api]")
    parser.add_argument("--rm-password", default=environ.get("RENT_MANAGER_PASSWORD") or "standin",
                        help="[RENT_MANAGER_PASSWORD or standin]")
    parser.add_argument("--rm-location", type=int, default=int(environ.get("RENT_MANAGER_LOCATION_ID") or 1),
                        help="[RENT_MANAGER_LOCATION_ID or 1]")
    parser.add_argument("--timeout", type=_positive_float, default=None,
                        help=f"seconds to wait for each reply [the scenario's, else {DEFAULT_TIMEOUT:g}]")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--quiet", action="store_true", help="only what is said, failures and the result")
    output.add_argument("-v", "--verbose", action="store_true", help="also every frame and the TwiML as XML")
    return parser


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


class Printer(Listener):
    """Prints the call as a transcript: the caller's turns, the assistant's, timings, TwiML and checks."""

    def __init__(self, quiet: bool = False, verbose: bool = False, stream: TextIO = sys.stdout) -> None:
        self.quiet, self.verbose, self.stream = quiet, verbose, stream
        self.show_stale = True  # off when unprompted words were already printed as they came
        self._call: Optional[SimulatedCall] = None
        self._documents = 0

    def line(self, text: str = "") -> None:
        print(text, file=self.stream, flush=True)

    def started(self, scenario: Scenario, call: SimulatedCall) -> None:
        self._call, self._documents = call, 0
        mode = "gather" if call.config.gather else "relay"
        self.line(f"== {scenario.name} ({mode}, {call.config.caller} -> {call.config.called}, {call.call_sid})")
        if scenario.note and not self.quiet:
            self.line(f"   note: {scenario.note}")

    def attach(self, call: SimulatedCall) -> None:
        self._call, self._documents = call, 0

    def action(self, step: Step) -> None:
        value = step.value
        text = {
            "say": lambda: f"Caller: {value}",
            "dtmf": lambda: f"Caller presses {value}",
            "interrupt": lambda: f'Caller cuts in after hearing "{value}"',
            "silence": lambda: f"(the caller says nothing for {value:g} s)",
            "junk": lambda: f"(a junk frame: {value})",
            "hangup": lambda: "Caller hangs up",
        }[step.action or "say"]()
        self.line(text)

    def reply(self, step: Optional[Step], reply: Reply) -> None:
        if reply.action == "call":
            self._new_documents()
        for text in reply.stale if self.show_stale else ():
            self.line(f"  (said after the previous reply had ended) Assistant: {text}")
        if self.verbose:
            for frame in reply.frames:
                raw = frame.raw if isinstance(frame.raw, str) else repr(frame.raw)
                self.line(f"  << {frame.at_ms:7.0f} ms  {raw[:300]}")
        if reply.undelivered:
            self.line(f"  ! not delivered: {reply.undelivered}")
        gather_turn = not reply.frames and reply.twiml is not None and reply.first_ms is not None
        if gather_turn:
            self.line(f"Assistant: {' '.join(reply.says) or '(nothing)'}{self._timing(reply)}")
        elif reply.tokens or reply.complete or reply.timed_out:
            self.line(f"Assistant: {reply.relay_text or '(nothing)'}{self._timing(reply)}")
        elif reply.action.startswith(("say", "dtmf")) and not reply.says and not reply.undelivered:
            self.line("Assistant: (nothing)")
        for problem in reply.invalid:
            self.line(f"  ! invalid frame: {problem}")
        if not self.quiet:
            for note in reply.notes:
                self.line(f"  ({note})")
        if reply.ended_relay:
            self.line(f"  relay ended by the assistant; handoffData: {reply.handoff_data}")
        if reply.action != "call":
            self._new_documents()
        for text in reply.says if not gather_turn else ():
            self.line(f"Twilio <Say>: {text}")
        if reply.closed:
            self.line(f"  ! {reply.closed}")
        if reply.resumed is not None:
            self.line("  (connected to the relay again)")
            self.reply(None, reply.resumed)
        if reply.end == "transfer" and reply.dial is not None:
            dial = reply.dial
            self.line(f"  >> transferred: <Dial> {dial.number} callerId={dial.caller_id} timeout={dial.timeout}")
        elif reply.end == "hangup":
            self.line("  >> the assistant hung up")

    def _timing(self, reply: Reply) -> str:
        if reply.timed_out:
            return f"  [no last:true within the timeout; first text {_ms(reply.first_ms)}]"
        if reply.first_ms is None and reply.last_ms is None:
            return ""
        return f"  [first {_ms(reply.first_ms)}, last {_ms(reply.last_ms)}]"

    def _new_documents(self) -> None:
        if self._call is None:
            return
        for index, (what, doc) in enumerate(self._call.documents[self._documents:], start=self._documents):
            routine = index > 0 and all(isinstance(verb, (twiml.Say, twiml.Gather)) for verb in doc.verbs)
            if self.verbose:
                self.line(f"  TwiML from {what}:\n    " + doc.xml.strip().replace("\n", "\n    "))
            elif not self.quiet and not routine:  # a Gather turn is already its Assistant line
                self.line(f"  TwiML from {what}: " + doc.summary().replace("\n", "\n    "))
            for warning in doc.warnings:
                self.line(f"  ! {warning}")
        self._documents = len(self._call.documents)

    def check(self, passed: bool, message: str) -> None:
        if not passed:
            self.line(f"  FAIL {message}")
        elif not self.quiet:
            self.line(f"  ok   {message}")


def _ms(value: Optional[float]) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def call_config(args: argparse.Namespace, scenario: Optional[Scenario] = None) -> CallConfig:
    """Command line first, then the scenario, then the defaults."""
    return CallConfig(
        rasa_url=args.rasa_url.rstrip("/"),
        public_base_url=args.public_base_url,
        auth_token=args.auth_token,
        account_sid=args.account_sid,
        caller=args.caller or (scenario.caller if scenario else None) or DEFAULT_CALLER,
        called=args.called or (scenario.to if scenario else None) or DEFAULT_CALLED,
        gather=args.gather or bool(scenario and scenario.mode == "gather"),
        timeout=args.timeout or (scenario.timeout if scenario else None) or DEFAULT_TIMEOUT,
    )


async def play_scenarios(args: argparse.Namespace, printer: Printer) -> int:
    try:
        scenarios = [load_scenario(path) for path in scenario_files(args.scenario)]
    except ScenarioError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    if not scenarios:
        print("simulator: no scenario files found", file=sys.stderr)
        return 2
    rentmanager = None
    if any(scenario.outcome.needs_rentmanager for scenario in scenarios):
        rentmanager = RentManagerCheck(args.rentmanager_url, args.rm_username, args.rm_password, args.rm_location)
    results: List[Any] = []
    try:
        async with httpx.AsyncClient() as http:
            for scenario in scenarios:
                try:
                    result = await run_scenario(scenario, call_config(args, scenario), rentmanager, printer, http)
                except (CallUnreachable, CallRefused, SetupError) as exc:
                    print(f"simulator: {exc}", file=sys.stderr)
                    return 2
                results.append(result)
                _summary(printer, result)
                printer.line()
    finally:
        if rentmanager is not None:
            await rentmanager.aclose()
    failed = [result for result in results if not result.passed]
    if len(results) > 1:
        printer.line(f"{len(results) - len(failed)} of {len(results)} scenarios passed"
                     + (": failed " + ", ".join(r.scenario.name for r in failed) if failed else ""))
    return 1 if failed else 0


def _summary(printer: Printer, result: Any) -> None:
    call = result.call
    if call is not None:
        for warning in dict.fromkeys(call.warnings):
            printer.line(f"  ! {warning}")
    failures = result.failures
    if not failures:
        printer.line(f"PASS {result.scenario.name}")
        return
    printer.line(f"FAIL {result.scenario.name}: {len(failures)} failure(s)")
    for failure in failures:
        printer.line(f"  - {failure}")


async def interactive(args: argparse.Namespace, printer: Printer) -> int:
    loop = asyncio.get_running_loop()
    lines: "asyncio.Queue[Optional[str]]" = asyncio.Queue()
    relay_ended = asyncio.Event()
    idle_tokens: List[str] = []

    def on_idle_frame(frame: Dict[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "text" and isinstance(frame.get("token"), str):
            idle_tokens.append(frame["token"])
            if frame.get("last") is True:
                printer.line(f"\nAssistant (on its own): {join_tokens(idle_tokens)}")
                print("You: ", end="", flush=True, file=printer.stream)
                idle_tokens.clear()
        elif kind == "end":
            relay_ended.set()

    def read_stdin() -> None:  # a daemon thread, so a pending read never holds up the exit
        for raw in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, raw.rstrip("\n"))
        loop.call_soon_threadsafe(lines.put_nowait, None)

    call = SimulatedCall(call_config(args), on_idle_frame=on_idle_frame)
    printer.attach(call)
    printer.show_stale = False
    mode = "gather" if call.config.gather else "relay"
    printer.line(f"== calling {call.config.rasa_url} ({mode}, {call.config.caller} -> {call.config.called}, "
                 f"{call.call_sid})")
    try:
        printer.reply(None, await call.start())
    except (CallUnreachable, CallRefused) as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        await call.hangup()
        return 2
    except CallError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        await call.hangup()
        return 1
    if not args.quiet:
        printer.line(HELP_LINE)
    threading.Thread(target=read_stdin, daemon=True).start()
    code = 0
    try:
        while not call.ended:
            print("You: ", end="", flush=True, file=printer.stream)
            line_task = asyncio.ensure_future(lines.get())
            ended_task = asyncio.ensure_future(relay_ended.wait())
            done, _ = await asyncio.wait({line_task, ended_task}, return_when=asyncio.FIRST_COMPLETED)
            if line_task not in done:
                line_task.cancel()
                printer.line()
                printer.reply(None, await call.listen())
                continue
            ended_task.cancel()
            line = line_task.result()
            if line is None or line.strip() in ("/hangup", "/quit", "/exit"):
                if line is None:
                    printer.line()
                break
            if not sys.stdin.isatty():
                printer.line(line)  # typed lines echo themselves; piped ones do not
            reply = await _command(call, line.strip(), printer)
            if reply is not None:
                printer.reply(None, reply)
    except CallError as exc:
        print(f"simulator: the call broke: {exc}", file=sys.stderr)
        code = 1
    finally:
        await call.hangup()
    status = call.status_callback
    printer.line(f"== call over ({call.end}); status callback answered "
                 + ("nothing" if status is None else "an error" if status < 0 else f"HTTP {status}"))
    for warning in dict.fromkeys(call.warnings):
        printer.line(f"  ! {warning}")
    return code


async def _command(call: SimulatedCall, line: str, printer: Printer) -> Optional[Reply]:
    if not line:
        return None
    if not line.startswith("/"):
        return await call.say(line)
    command, _, rest = line.partition(" ")
    rest = rest.strip()
    if command == "/dtmf" and len(rest) == 1 and rest in DTMF_KEYS:
        return await call.dtmf(rest)
    if command == "/interrupt" and rest:
        return await call.interrupt(rest)
    if command == "/silence":
        try:
            seconds = float(rest or "8")
        except ValueError:
            seconds = 0
        if seconds > 0:
            return await call.silence(seconds)
    if command == "/junk" and (rest or "malformed_json") in JUNK_KINDS:
        return await call.junk(rest or "malformed_json")
    if command == "/listen":
        return await call.listen(float(rest) if rest.replace(".", "", 1).isdigit() else 0.0)
    printer.line(HELP_LINE)
    return None


def main(argv: Optional[Sequence[str]] = None, environ: Optional[Mapping[str, str]] = None) -> int:
    args = build_parser(os.environ if environ is None else environ).parse_args(argv)
    printer = Printer(quiet=args.quiet, verbose=args.verbose)
    runner = play_scenarios if args.scenario else interactive
    try:
        return asyncio.run(runner(args, printer))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the output went to `head` or similar, which stopped reading
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
