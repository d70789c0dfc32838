"""The records between steps: each converts to its payload and back without losing a field."""

from __future__ import annotations

from typing import Any

import pytest
from thumbnailer.errors import ConfigError
from thumbnailer.records import PinnedSource, RenderGroup, SourceRef, Thumbnail, group_result
from thumbnailer.spec import SizeSpec

PINNED = PinnedSource("b", "k.jpg", "e", "v1", 123, "jpeg", 640, 480)


def test_pinned_source_round_trips() -> None:
    assert PinnedSource.from_payload(PINNED.to_payload()) == PINNED


def test_pinned_source_reads_a_missing_or_empty_version_as_none() -> None:
    payload = {**PINNED.to_payload(), "version": ""}
    assert PinnedSource.from_payload(payload).version is None
    del payload["version"]
    assert PinnedSource.from_payload(payload).version is None


@pytest.mark.parametrize(
    "broken", [{"bucket": "b", "key": "k"}, {**PINNED.to_payload(), "width": "wide"}, {}]
)
def test_a_malformed_source_record_is_a_config_error(broken: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match="malformed"):
        PinnedSource.from_payload(broken)


def test_render_group_round_trips_with_its_labels() -> None:
    group = RenderGroup((SizeSpec(512, 512, name="m"), SizeSpec(128, 128, "cover", "png", 70, "t")))
    payload = group.to_payload()
    assert payload["labels"] == ["512x512", "128x128"]
    assert RenderGroup.from_payload(payload) == group


def test_a_group_without_sizes_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        RenderGroup.from_payload({"sizes": None})


def test_group_result_carries_the_group_the_outcome_and_the_manifest() -> None:
    group = RenderGroup((SizeSpec(10, 10),))
    thumb = Thumbnail("k_10x10.jpg", "10x10", 10, 8, 99, "jpeg", {"thumbnail": "yes"})
    result = group_result(group, "made", [thumb])
    assert set(result) == {"sizes", "labels", "outcome", "thumbnails", "reason", "cause"}
    assert (result["outcome"], result["reason"], result["cause"]) == ("made", "", "")
    assert result["thumbnails"] == [{"key": "k_10x10.jpg", "path": "/k_10x10.jpg", "size": "10x10",
                                     "width": 10, "height": 8,
                                     "bytes": 99, "format": "jpeg", "tags": {"thumbnail": "yes"},
                                     "reused": False, "placeholder": None}]
    assert RenderGroup.from_payload(result) == group  # the retry pass re-reads it


def test_a_thumbnail_carries_its_placeholder_as_an_object() -> None:
    hint = {"blurhash": "LaJHjmVu8_~po#smR+a~xaoLWCRj", "color": "#a1978a"}
    thumb = Thumbnail("k_10x10.jpg", "10x10", 10, 8, 99, "jpeg", {}, placeholder=hint)
    payload = group_result(RenderGroup((SizeSpec(10, 10),)), "made", [thumb])["thumbnails"][0]
    assert payload["placeholder"] == hint
    assert payload["placeholder"] is not hint  # a copy: the payload is JSON, not a view of the record


def test_a_smart_size_travels_with_its_gravity_and_a_centred_one_without() -> None:
    group = RenderGroup((SizeSpec(128, 128, "cover", gravity="smart"), SizeSpec(64, 64, "cover")))
    sizes = group.to_payload()["sizes"]
    assert sizes[0]["gravity"] == "smart" and "gravity" not in sizes[1]
    assert RenderGroup.from_payload(group.to_payload()) == group


def test_a_refused_group_says_why_by_name() -> None:
    result = group_result(RenderGroup((SizeSpec(10, 10),)), "rejected", cause="truncated: cut short",
                          reason="truncated")
    assert (result["outcome"], result["reason"], result["thumbnails"]) == ("rejected", "truncated", [])


def test_a_thumbnail_path_is_its_key_url_quoted_with_slashes_kept() -> None:
    thumb = Thumbnail("a b/ü#?%_10x10.jpg", "10x10", 10, 8, 99, "jpeg", {})
    assert thumb.path == "/a%20b/%C3%BC%23%3F%25_10x10.jpg"
    assert thumb.to_payload()["path"] == thumb.path


def test_rerun_input_names_the_object_as_it_is_now() -> None:
    assert SourceRef("b", "k", etag="e", version="v").rerun_input() == {"bucket": "b", "key": "k"}
