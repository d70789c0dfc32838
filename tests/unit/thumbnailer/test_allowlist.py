"""The on-demand allowlist: Configure's sizes (read from the deployed workflow) plus OnDemandSizes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from thumbnailer import allowlist
from thumbnailer.allowlist import Allowlist, ConfigureSizes, parse_size_list, sizes_from_definition
from thumbnailer.errors import ConfigError
from thumbnailer.spec import DEFAULT_QUALITY, SizeSpec

from tests.unit.conftest import REPO, CountingStubber, described

DEFINITION_TEXT = (REPO / "statemachine" / "thumbnails.asl.json").read_text()
CONFIGURE = json.loads(DEFINITION_TEXT)["States"]["Configure"]["Parameters"]["config"]["sizes"]


def definition(*sizes: dict[str, Any]) -> str:
    return json.dumps({"StartAt": "Configure", "States": {"Configure": {
        "Type": "Pass", "Parameters": {"config": {"sizes": list(sizes)}}, "End": True}}})


# ----------------------------------------------------------------------------- the list


def test_parse_size_list() -> None:
    assert parse_size_list(" 200x200, 640X480 ,") == {(200, 200), (640, 480)}
    assert parse_size_list("") == frozenset()


@pytest.mark.parametrize("bad", ["200", "200x", "x200", "0x10", "5000x10", "axb", "2x3x4", "-1x5", "1.5x2"])
def test_bad_on_demand_sizes_are_a_configuration_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="ON_DEMAND_SIZES"):
        parse_size_list(bad)


def test_the_deployed_definitions_configure_sizes_are_read() -> None:
    sizes = sizes_from_definition(json.loads(DEFINITION_TEXT))
    assert [(s.width, s.height, s.fit) for s in sizes] == [
        (s["width"], s["height"], s.get("fit", "inside")) for s in CONFIGURE]


@pytest.mark.parametrize("broken", [{}, {"States": {}}, {"States": {"Configure": {"Type": "Pass"}}},
                                    {"States": {"Configure": {"Parameters": {"config": "x"}}}}])
def test_a_definition_without_configure_sizes_is_a_config_error(broken: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="Configure"):
        sizes_from_definition(broken)


def test_spec_for_takes_a_configure_entrys_fit_and_quality_in_the_requested_format() -> None:
    allow = Allowlist((SizeSpec(128, 128, "cover", "auto", 70, "thumb"),), frozenset({(200, 200)}))
    assert allow.spec_for(128, 128, "webp") == SizeSpec(128, 128, "cover", "webp", 70, "thumb")
    assert allow.spec_for(200, 200, "png") == SizeSpec(200, 200, "inside", "png", DEFAULT_QUALITY)
    assert allow.spec_for(300, 300, "jpeg") is None
    assert allow.spec_for(128, 129, "jpeg") is None


def test_labels_are_every_allowed_box_once_smallest_first() -> None:
    allow = Allowlist((SizeSpec(512, 512), SizeSpec(128, 128, "cover"), SizeSpec(128, 128, format="png")),
                      frozenset({(640, 480), (128, 128), (480, 640)}))
    assert allow.labels() == ["128x128", "512x512", "480x640", "640x480"]


def test_same_box_lists_configure_entries_whose_thumbnails_serve_the_request() -> None:
    a, b = SizeSpec(128, 128, "cover"), SizeSpec(128, 128, format="png")
    allow = Allowlist((a, SizeSpec(256, 256), b))
    assert allow.same_box(SizeSpec(128, 128, format="jpeg")) == [a, b]
    assert allow.same_box(SizeSpec(64, 64)) == []


# ----------------------------------------------------------------------------- the cache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Describe:
    """DescribeStateMachine's definition text, counted; ``answers`` are returned (or raised) in turn."""

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.arns: list[str] = []

    def __call__(self, arn: str) -> str:
        self.arns.append(arn)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_sizes_are_described_once_per_refresh_period() -> None:
    clock, describe = Clock(), Describe(definition({"width": 10, "height": 10}),
                                        definition({"width": 20, "height": 20}))
    sizes = ConfigureSizes(describe, refresh=300, clock=clock)
    assert sizes.get("arn:a")[0].width == 10
    clock.now += 299
    assert sizes.get("arn:a")[0].width == 10
    assert describe.arns == ["arn:a"]
    clock.now += 1  # the refresh period is over: an edited Configure reaches warm functions
    assert sizes.get("arn:a")[0].width == 20
    assert describe.arns == ["arn:a", "arn:a"]


def test_another_state_machine_is_described_at_once() -> None:
    clock, describe = Clock(), Describe(definition({"width": 10, "height": 10}))
    sizes = ConfigureSizes(describe, clock=clock)
    sizes.get("arn:a")
    sizes.get("arn:b")
    assert describe.arns == ["arn:a", "arn:b"]


@pytest.mark.parametrize("failure", [RuntimeError("throttled"), "{\"States\": {}}", "not json"])
def test_failures_are_not_cached(failure: str | Exception) -> None:
    good = definition({"width": 10, "height": 10})
    clock, describe = Clock(), Describe(failure, good)
    sizes = ConfigureSizes(describe, clock=clock)
    with pytest.raises((RuntimeError, ConfigError, ValueError)):
        sizes.get("arn:a")
    assert sizes.get("arn:a")[0].width == 10  # tried again at once, not after the refresh period
    assert len(describe.arns) == 2


def test_a_failed_refresh_keeps_the_last_sizes_and_is_tried_again() -> None:
    clock = Clock()
    describe = Describe(definition({"width": 10, "height": 10}), RuntimeError("down"),
                        definition({"width": 30, "height": 30}))
    sizes = ConfigureSizes(describe, refresh=60, clock=clock)
    sizes.get("arn:a")
    clock.now += 61
    assert sizes.get("arn:a")[0].width == 10  # Step Functions down: the sizes read last
    assert sizes.get("arn:a")[0].width == 30  # tried again on the next request


def test_a_failed_first_read_raises() -> None:
    sizes = ConfigureSizes(Describe(RuntimeError("down")), refresh=60, clock=Clock())
    with pytest.raises(RuntimeError):
        sizes.get("arn:a")


# ----------------------------------------------------------------------------- load


def test_load_without_a_state_machine_is_the_parameter_list_only() -> None:
    allow = allowlist.load({"ON_DEMAND_SIZES": "200x200"}, ConfigureSizes(Describe(RuntimeError("unused"))))
    assert allow.labels() == ["200x200"] and allow.configured == ()


def test_load_describes_the_state_machine_through_step_functions(sfn: CountingStubber) -> None:
    arn = described(sfn, DEFINITION_TEXT)
    allow = allowlist.load({"STATE_MACHINE_ARN": arn, "ON_DEMAND_SIZES": "200x200,640x480"})
    assert set(allow.labels()) == {"200x200", "640x480"} | {f"{s['width']}x{s['height']}" for s in CONFIGURE}
    assert allowlist.load({"STATE_MACHINE_ARN": arn}).configured == allow.configured  # cached: one call
    # The repository's definition keeps ModerationEnabled as a placeholder: not "true", so off.
    assert allow.moderated is False


def moderated_definition(enabled: str) -> str:
    raw = json.loads(definition({"width": 10, "height": 10}))
    config = raw["States"]["Configure"]["Parameters"]["config"]
    config["moderation"] = {"enabled": enabled, "minConfidence": "80"}
    return json.dumps(raw)


@pytest.mark.parametrize(("enabled", "on"), [("true", True), ("True", True), ("false", False), ("", False)])
def test_the_moderation_switch_is_read_with_the_sizes(enabled: str, on: bool) -> None:
    """ModerationEnabled reaches the resizer as Configure says it: one description for both."""
    describe = Describe(moderated_definition(enabled))
    allow = allowlist.load({"STATE_MACHINE_ARN": "arn:a"}, ConfigureSizes(describe, clock=Clock()))
    assert allow.moderated is on and allow.configured[0].width == 10
    assert describe.arns == ["arn:a"]


def test_a_definition_without_moderation_is_unmoderated() -> None:
    assert allowlist.moderation_from_definition(json.loads(definition({"width": 1, "height": 1}))) is False
    assert allowlist.moderation_from_definition({"States": None}) is False
