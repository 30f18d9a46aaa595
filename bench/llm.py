"""`python -m bench.llm`: from the caller's words to the first word of the LLM's answer.

Starts the stack with the OpenAI stand-in answering like a real model (400 ms to the first
token, then about 50 tokens a second), plays relay calls that ask questions only the LLM
can answer, and prints p50/p95 of the time from the prompt frame to the first text frame of
the answer itself (the "let me think about that" filler does not count), and to the filler.
Goal: under 800 ms at p95, which needs the answer streamed sentence by sentence.
"""
from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import List, Optional

from bench.rentmanager import percentile
from simulator.call import CallConfig, SimulatedCall
from bench.harness import bench_stack
from stack.processes import Process, free_port

# Questions no intent and no property-file fact covers: they reach the fallback and the LLM.
QUESTIONS = ["can you recommend a good moving company", "do you know a pizza place open late",
             "what's a good way to keep my plants alive in winter", "who won the game last night",
             "is there a good dentist nearby"]
FILLER = "Let me think about that."


def first_answer_ms(reply) -> tuple:
    """(filler ms, answer ms) from the reply's text frames."""
    filler: Optional[float] = None
    answer: Optional[float] = None
    for frame in reply.frames:
        token = (frame.data or {}).get("token", "") if frame.data else ""
        if not token.strip():
            continue
        if token.strip() == FILLER and filler is None:
            filler = frame.at_ms
        elif answer is None:
            answer = frame.at_ms
    return filler, answer


async def play(rasa_url: str, calls: int) -> tuple:
    fillers: List[float] = []
    answers: List[float] = []
    for i in range(calls):
        for question in QUESTIONS:  # one question per call: each answer is a fresh fallback
            async with SimulatedCall(CallConfig(rasa_url=rasa_url, caller="+17185550134", timeout=30,
                                                settle=0.2)) as call:
                await call.start()
                filler, answer = first_answer_ms(await call.say(question))
                if filler is not None:
                    fillers.append(filler)
                if answer is not None:
                    answers.append(answer)
                await call.hangup()
    return fillers, answers


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.llm", description=__doc__)
    parser.add_argument("--calls", type=int, default=8)
    parser.add_argument("--first-token-ms", type=int, default=400)
    parser.add_argument("--tps", type=float, default=50)
    args = parser.parse_args(argv)
    log_dir = Path(".state/logs/bench-llm")
    log_dir.mkdir(parents=True, exist_ok=True)
    openai_port = free_port()
    llm = Process("OpenAI stand-in", [sys.executable, "-m", "standins.openai", "--port", str(openai_port),
                                      "--first-token-ms", str(args.first_token_ms),
                                      "--tokens-per-second", str(args.tps)],
                  f"http://127.0.0.1:{openai_port}/_standin/health", log_path=str(log_dir / "openai.log"))
    llm.start()
    try:
        llm.wait_healthy(30)
        with bench_stack("bench-llm", {"OPENAI_API_KEY": "sk-standin",
                                       "OPENAI_BASE_URL": f"http://127.0.0.1:{openai_port}/v1"}) as group:
            rasa_url = group.by_name()["Rasa server"].base_url
            asyncio.run(play(rasa_url, 1))  # warm-up
            fillers, answers = asyncio.run(play(rasa_url, args.calls))
    finally:
        llm.stop()
    print(f"LLM answers on relay calls (stand-in: {args.first_token_ms} ms to first token, {args.tps:g} tokens/s):")
    for name, samples in (("filler (let me think about that)", fillers), ("first words of the answer", answers)):
        if samples:
            print(f"  {name:34} n={len(samples):3d}  p50={percentile(samples, 50):7.1f} ms  "
                  f"p95={percentile(samples, 95):7.1f} ms")
        else:
            print(f"  {name:34} no samples")
    if answers:
        print(f"  goal: answer p95 under 800 ms -> {'met' if percentile(answers, 95) < 800 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
