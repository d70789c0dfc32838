"""Walking a state machine definition (Amazon States Language) as written in statemachine/."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def states_of(definition: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every state, nested ones (Map processors, Parallel branches) included."""
    for state in definition.get("States", {}).values():
        yield state
        for nested in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
            if nested:
                yield from states_of(nested)
