"""The collector is kept off the loaded heap only for the span of a step, whatever ends the step."""
from __future__ import annotations

import gc

import pytest

from modules.collector import collector_frozen


def test_the_heap_is_frozen_during_the_step_and_collected_as_usual_after():
    assert gc.get_freeze_count() == 0
    with collector_frozen():
        assert gc.get_freeze_count() > 0  # what was loaded before the step
    assert gc.get_freeze_count() == 0


def test_a_failing_step_unfreezes_too():
    with pytest.raises(KeyError), collector_frozen():
        raise KeyError("step")
    assert gc.get_freeze_count() == 0


def test_garbage_made_during_the_step_is_still_collected():
    class Cycle:
        pass

    with collector_frozen():
        made = Cycle()
        made.me = made  # a cycle only the collector frees
        del made
        assert gc.collect() >= 1
