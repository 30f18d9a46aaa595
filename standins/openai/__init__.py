"""A local OpenAI Chat Completions stand-in: `create_app(...)` builds it, `python -m standins.openai` runs it.

Point the real `openai` SDK at it with OPENAI_BASE_URL=http://127.0.0.1:5200/v1 and OPENAI_API_KEY=sk-standin.
Answers come from a script (see `script`); faults and pacing are switched at /_standin/faults (see `faults`).
"""
from standins.openai.app import create_app

__all__ = ["create_app"]
