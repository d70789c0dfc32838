"""The one local change to a definition: a Distributed Map's batches become batches of one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thumbflow.local import aslcompat

ROOT = Path(__file__).resolve().parents[4]


def test_definitions_without_item_batcher_pass_through_as_the_same_text() -> None:
    for name in ("thumbnails.asl.json", "purge.asl.json"):
        text = (ROOT / "statemachine" / name).read_text()
        assert aslcompat.for_moto(text) is text


def test_the_backfill_map_gets_one_item_batches_and_nothing_else_changes() -> None:
    original = json.loads((ROOT / "statemachine" / "backfill.asl.json").read_text())
    adapted = json.loads(aslcompat.for_moto(json.dumps(original)))
    before = original["States"]["Check every source"]
    after = adapted["States"]["Check every source"]
    assert "ItemBatcher" in before and "ItemBatcher" not in after
    assert after["ItemSelector"] == {"Items.$": "States.Array($$.Map.Item.Value)"}
    # Every other field of every state is what the template says.
    for name, state in original["States"].items():
        other = adapted["States"][name]
        if name == "Check every source":
            state = {k: v for k, v in state.items() if k != "ItemBatcher"}
            other = {k: v for k, v in other.items() if k != "ItemSelector"}
        assert other == state, name
    assert original == json.loads((ROOT / "statemachine" / "backfill.asl.json").read_text())  # not mutated


def test_a_nested_batched_map_is_adapted_too() -> None:
    inner = {"Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 5}, "ItemProcessor": {"States": {}},
             "End": True}
    outer = {"States": {"Outer": {"Type": "Map", "ItemProcessor": {"States": {"Inner": inner}}, "End": True}}}
    adapted = aslcompat.batches_of_one(outer)
    assert "ItemBatcher" not in adapted["States"]["Outer"]["ItemProcessor"]["States"]["Inner"]


def test_a_batched_map_with_its_own_item_selector_is_refused_not_silently_changed() -> None:
    state = {"Type": "Map", "ItemBatcher": {"MaxItemsPerBatch": 5},
             "ItemSelector": {"k.$": "$$.Map.Item.Value"}}
    with pytest.raises(ValueError, match="ItemSelector"):
        aslcompat.batches_of_one({"States": {"M": state}})
