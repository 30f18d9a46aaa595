"""The NLU test files keep their promises: the held-out files are not copied into the training data.

Callers say "yes", "thank you" and "what are your office hours" in every file, so a blind
writer's file shares some common phrases with the training data by chance (the NLU report
scores the rest separately). What must not happen is a held-out sentence being added to
data/nlu later: that would turn the exam into a memory test. So the overlap may not grow
beyond what it was when each file was written.
"""
from __future__ import annotations

from typing import Set

import pytest

from tests.nlu_report import load_examples, sentences

# Overlap with data/nlu when each file was written (all short common phrases, same labels).
HELD_OUT = {"tests/nlu/heldout2.yml": 40, "tests/nlu/heldout3.yml": 53, "tests/nlu/heldout4.yml": 47,
            "tests/nlu/heldout5.yml": 45, "tests/nlu/heldout6.yml": 35,
            "tests/nlu/heldout7.yml": 55}


@pytest.fixture(scope="module")
def training() -> Set[str]:
    return sentences()


@pytest.mark.parametrize("path", sorted(HELD_OUT))
def test_no_held_out_sentence_was_added_to_the_training_data(path: str, training: Set[str]) -> None:
    shared = sorted(sentences(path) & training)
    assert len(shared) <= HELD_OUT[path], f"{path}: training data now holds more of its sentences: {shared}"


@pytest.mark.parametrize("path", sorted(HELD_OUT))
def test_held_out_files_are_big_enough_and_cover_the_emergency_line(path: str) -> None:
    labels = [intent for _, intent in load_examples(path)]
    assert len(labels) >= 120
    assert labels.count("report_emergency") >= 15 and labels.count("report_maintenance") >= 15
