"""Size specs: a Configure entry parsed once, and every bad value refused by naming the size."""

from __future__ import annotations

from typing import Any

import pytest
from thumbnailer.errors import ConfigError
from thumbnailer.spec import DEFAULT_QUALITY, SizeSpec, parse_size, parse_sizes


def test_defaults_and_label() -> None:
    spec = parse_size({"width": 200, "height": 100})
    assert spec == SizeSpec(200, 100, "inside", "auto", DEFAULT_QUALITY, "")
    assert spec.label == "200x100"


def test_every_field_is_read_and_jpg_means_jpeg() -> None:
    raw = {"name": "thumb", "width": "128", "height": 96, "fit": "cover", "format": "JPG", "quality": 55}
    assert parse_size(raw) == SizeSpec(128, 96, "cover", "jpeg", 55, "thumb")


def test_to_dict_parses_back_to_the_same_spec() -> None:
    spec = SizeSpec(640, 480, "cover", "webp", 90, "big")
    assert parse_size(spec.to_dict()) == spec
    smart = SizeSpec(640, 480, "cover", "webp", 90, "big", "smart")
    assert parse_size(smart.to_dict()) == smart


def test_gravity_defaults_to_centre_and_a_centred_size_says_nothing_of_it() -> None:
    spec = parse_size({"width": 128, "height": 128, "fit": "cover"})
    assert (spec.gravity, spec.smart) == ("centre", False)
    assert "gravity" not in spec.to_dict()  # travels and is digested exactly as before gravity existed
    assert parse_size({"width": 128, "height": 128, "fit": "cover", "gravity": "Center"}) == spec


def test_smart_gravity_is_read_for_cover_sizes() -> None:
    spec = parse_size({"width": 128, "height": 128, "fit": "cover", "gravity": "smart"})
    assert (spec.gravity, spec.smart) == ("smart", True)
    assert spec.to_dict()["gravity"] == "smart"


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"name": "huge", "width": 5000, "height": 10}, ["'huge'", "5000x10", "1..4096"]),
        ({"width": 0, "height": 10}, ["0x10"]),
        ({"width": 10}, ["10xNone", "integers"]),
        ({"width": "ten", "height": 10}, ["integers"]),
        ({"name": "odd", "width": 10, "height": 10, "fit": "stretch"}, ["'odd'", "'stretch'"]),
        ({"width": 10, "height": 10, "format": "gif"}, ["10x10", "'gif'"]),
        ({"width": 10, "height": 10, "quality": 0}, ["quality 0"]),
        ({"width": 10, "height": 10, "quality": 101}, ["quality 101"]),
        ({"width": 10, "height": 10, "quality": "high"}, ["quality must be an integer"]),
        ({"name": "t", "width": 10, "height": 10, "fit": "cover", "gravity": "north"}, ["'t'", "'north'"]),
        ({"width": 10, "height": 10, "gravity": "smart"}, ["10x10", "needs fit cover"]),
    ],
)
def test_bad_sizes_are_config_errors_that_name_the_size(raw: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_size(raw)
    for word in words:
        assert word in str(caught.value)


def test_a_size_that_is_not_an_object_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="must be an object"):
        parse_size([200, 200])  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [[], None, "200x200", b"sizes", {"width": 1, "height": 1}])
def test_sizes_must_be_a_non_empty_list(raw: Any) -> None:
    with pytest.raises(ConfigError, match="at least one size"):
        parse_sizes(raw)


def test_parse_sizes_keeps_order_and_names_the_bad_one() -> None:
    sizes = parse_sizes([{"width": 2, "height": 2}, {"width": 1, "height": 1}])
    assert [s.label for s in sizes] == ["2x2", "1x1"]
    with pytest.raises(ConfigError, match="'second'"):
        parse_sizes([{"width": 2, "height": 2}, {"name": "second", "width": -1, "height": 1}])


def test_the_shipped_configure_makes_only_the_default_thumb_smart() -> None:
    """The 128x128 cover thumb is placed by the image; the other sizes travel exactly as before."""
    import json
    from pathlib import Path

    definition = Path(__file__).resolve().parents[3] / "statemachine" / "thumbnails.asl.json"
    raw = json.loads(definition.read_text())["States"]["Configure"]["Parameters"]["config"]["sizes"]
    sizes = parse_sizes(raw)
    thumb = sizes[0]
    assert (thumb.name, thumb.label, thumb.fit, thumb.gravity) == ("thumb", "128x128", "cover", "smart")
    assert all(s.gravity == "centre" and "gravity" not in r for s, r in zip(sizes[1:], raw[1:], strict=True))
