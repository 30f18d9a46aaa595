"""Keeps the garbage collector off the startup heap of a long-running server.

A loaded Rasa model (TensorFlow, spaCy, the graph) leaves millions of long-lived objects
behind. Python's full collection walks all of them: measured at 450-530 ms on the Rasa
server and 250-280 ms on the action server, a pause in the event loop that every call in
progress hears. Moving what exists after start-up into the permanent generation
(`gc.freeze`) leaves the collector only the objects made while serving calls.
"""
from __future__ import annotations

import gc
import logging
import time

logger = logging.getLogger(__name__)


def freeze_startup_heap() -> None:
    """Collect once, then exempt every surviving object from later collections."""
    started = time.perf_counter()
    gc.collect()
    gc.freeze()
    logger.info("heap.frozen objects=%d took_ms=%.0f", gc.get_freeze_count(), (time.perf_counter() - started) * 1000)
