"""A Twilio call simulator: plays Twilio against the running phone channel, instead of a phone.

`python -m simulator` talks to the channel's routes (`/webhooks/twilio/...`) the way Twilio does:
signed webhooks, TwiML, the ConversationRelay WebSocket or `<Gather>` turns, the `<Connect
action>` handoff and the status callback. Interactively (type what the caller says) or from a
scenario file with expectations (`--scenario scenarios/`). `SimulatedCall` is the same call as a
Python object, for end-to-end tests and benchmarks.
"""
from simulator.call import CallConfig, CallEnded, CallError, CallRefused, CallUnreachable, Reply, SimulatedCall
from simulator.scenario import Scenario, ScenarioError, load_scenario, run_scenario

__all__ = [
    "CallConfig", "CallEnded", "CallError", "CallRefused", "CallUnreachable", "Reply", "SimulatedCall",
    "Scenario", "ScenarioError", "load_scenario", "run_scenario",
]
