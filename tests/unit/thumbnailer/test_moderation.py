"""Moderation tags: what says why a source was flagged, merged without losing the owner's tags."""

from __future__ import annotations

from thumbnailer.moderation import MAX_TAGS, merge_tags, moderation_tags


def test_the_most_confident_label_is_named() -> None:
    labels = [{"Name": "Suggestive", "Confidence": 61.0}, {"Name": "Explicit Nudity", "Confidence": "97.5"},
              {"Name": "Violence", "Confidence": 80}]
    assert moderation_tags(labels) == {"moderation": "flagged", "moderation-label": "Explicit Nudity"}


def test_no_labels_or_no_name_is_unknown() -> None:
    assert moderation_tags([])["moderation-label"] == "unknown"
    assert moderation_tags([{"Confidence": 99}])["moderation-label"] == "unknown"


def test_the_label_is_cut_to_what_s3_tags_accept() -> None:
    hostile = "Bad<script>&\"name\"" + "x" * 400
    tag = moderation_tags([{"Name": hostile, "Confidence": 90}])["moderation-label"]
    assert tag.startswith("Badscriptname")
    assert len(tag) == 256
    assert moderation_tags([{"Name": "<>&", "Confidence": 90}])["moderation-label"] == "unknown"


def test_ours_win_and_the_owners_tags_survive() -> None:
    ours = {"moderation": "flagged", "moderation-label": "X"}
    merged = merge_tags({"owner": "me", "moderation": "clean"}, ours)
    assert merged == {"owner": "me", "moderation": "flagged", "moderation-label": "X"}


def test_over_the_limit_the_oldest_other_tags_go() -> None:
    existing = {f"t{i}": str(i) for i in range(MAX_TAGS)}
    merged = merge_tags(existing, {"moderation": "flagged", "moderation-label": "X"})
    assert len(merged) == MAX_TAGS
    assert "t0" not in merged and "t1" not in merged and "t9" in merged
    assert merged["moderation"] == "flagged"
