"""The one change local mode makes to a definition before moto sees it: Distributed Map batches.

moto's ASL parser does not know ``ItemBatcher`` (a Distributed Map that hands each child
execution a batch of items, ``{"Items": [...]}``). Rather than refuse the BackfillWorkflow,
local mode runs such a map with batches of one: the ``ItemBatcher`` is dropped and an
``ItemSelector`` gives each child ``{"Items": [<the item>]}``, the very shape a batch has.
The child's states and what they do are unchanged; only how many items share a child
differs (docs/aws-fidelity.md). Every other definition passes through untouched.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

ONE_ITEM_BATCH = {"Items.$": "States.Array($$.Map.Item.Value)"}


def _maps(states: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for state in states.values():
        if state.get("Type") != "Map":
            continue
        yield state
        processor = state.get("ItemProcessor") or state.get("Iterator") or {}
        yield from _maps(processor.get("States") or {})


def batches_of_one(definition: dict[str, Any]) -> dict[str, Any]:
    """The definition with every ItemBatcher replaced by one-item batches; a copy."""
    out = copy.deepcopy(definition)
    for state in _maps(out.get("States") or {}):
        if "ItemBatcher" not in state:
            continue
        if "ItemSelector" in state:
            raise ValueError("a Map with both ItemBatcher and ItemSelector is not supported locally")
        del state["ItemBatcher"]
        state["ItemSelector"] = dict(ONE_ITEM_BATCH)
    return out


def for_moto(text: str) -> str:
    """The definition text moto can parse; unchanged when it needs no change."""
    definition = json.loads(text)
    adapted = batches_of_one(definition)
    return text if adapted == definition else json.dumps(adapted)
