"""Validate's verdicts: every outcome is an answer with every key the definition reads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from thumbnailer import validation
from thumbnailer.errors import TransientError
from thumbnailer.settings import Settings

from tests import images
from tests.unit.conftest import REPO, S3Stub

BUCKET = "thumbflow-sourcebucket"  # what the events/ fixtures name
SETTINGS = Settings(BUCKET, "thumbs", 50 * 1024 * 1024, 100_000_000)
CONFIGURE = json.loads((REPO / "statemachine" / "thumbnails.asl.json").read_text())["States"]["Configure"][
    "Parameters"]
CONFIG, ALERTS = CONFIGURE["config"], CONFIGURE["alerts"]  # the alert texts, by kind
SIZES, GROUP_MAX = CONFIG["sizes"], CONFIG["groupMaxPixels"]
ETAG = "d8286fc44f5c6d8a2a9ce8ef5099490e"  # events/object-created.json's
KEYS = {"verdict", "object", "rerun", "source", "groups", "moderation", "failure"}
FAILURE = {"error", "reason", "cause", "kind", "subject", "event", "advice", "rerun"}


def event(name: str, **object_fields: Any) -> dict[str, Any]:
    raw = json.loads((REPO / "events" / name).read_text())
    if "detail" in raw:
        raw["detail"]["object"].update(object_fields)
    return raw


def object_at(s3: S3Stub, key: str, data: bytes, etag: str = ETAG, size: int | None = None) -> None:
    """The source as S3 holds it: one ranged GET of its first 64 KiB tells its size and its header."""
    s3.source(BUCKET, key, data, etag=etag, size=size)


def decide(raw: Any, *, sizes: Any = SIZES, moderation: dict[str, str] | None = None,
           settings: Settings = SETTINGS) -> dict[str, Any]:
    verdict = validation.decide(raw, sizes=sizes, group_max_pixels=GROUP_MAX, moderation=moderation or {},
                                settings=settings)
    payload = verdict.to_payload(ALERTS)
    assert payload["verdict"] == verdict.verdict
    # Every key, every time: the definition's ResultSelector and Choice read them all.
    assert set(payload) == KEYS
    assert set(payload["object"]) == {"bucket", "key"}
    assert set(payload["moderation"]) == {"mode", "reason"}
    if verdict.verdict == "accepted":
        assert payload["failure"] is None and payload["source"] is not None
    else:
        assert set(payload["failure"]) == FAILURE
        assert payload["failure"]["rerun"] == payload["rerun"]
        assert payload["source"] is None and payload["groups"] == []
    json.dumps(payload)  # what Lambda returns must be JSON
    return payload


# ----------------------------------------------------------------------------- accepted


def test_an_upload_is_accepted_with_its_pinned_source_and_render_groups(s3: S3Stub) -> None:
    data = images.jpeg(640, 480)
    object_at(s3, "samples/landscape.jpg", data)
    payload = decide(event("object-created.json"))
    assert payload["verdict"] == "accepted"
    assert payload["object"] == {"bucket": BUCKET, "key": "samples/landscape.jpg"}
    assert payload["rerun"] == {"bucket": BUCKET, "key": "samples/landscape.jpg"}
    assert payload["source"] == {"bucket": BUCKET, "key": "samples/landscape.jpg", "etag": ETAG,
                                 "version": None, "bytes": len(data), "format": "jpeg",
                                 "width": 640, "height": 480}
    labels = [label for g in payload["groups"] for label in g["labels"]]
    assert sorted(labels) == sorted(f"{s['width']}x{s['height']}" for s in SIZES)
    assert all(g["outcome"] == "planned" and g["thumbnails"] == [] for g in payload["groups"])
    assert payload["moderation"] == {"mode": "off", "reason": ""}


def test_manual_input_is_accepted_at_whatever_bytes_are_there(s3: S3Stub) -> None:
    data = images.png_alpha(300, 200)
    object_at(s3, "samples/landscape.jpg", data, etag="whatever")
    payload = decide(event("manual.json"))
    assert (payload["verdict"], payload["source"]["format"], payload["source"]["etag"]) == (
        "accepted", "png", "whatever")


def test_an_encoded_key_is_found_under_its_decoded_name(s3: S3Stub) -> None:
    data = images.jpeg(64, 48)
    s3.no_source(BUCKET, "samples/my+holiday+photo+%281%29.jpg")
    object_at(s3, "samples/my holiday photo (1).jpg", data)
    payload = decide(event("object-created-encoded-key.json"))
    assert payload["source"]["key"] == "samples/my holiday photo (1).jpg"


@pytest.mark.parametrize(
    ("enabled", "data", "size", "mode"),
    [
        ("true", images.jpeg(64, 48), None, "direct"),
        ("TRUE", images.png_alpha(64, 48), None, "direct"),
        ("false", images.jpeg(64, 48), None, "off"),
        ("false", images.heic(images.photo(64, 48)), None, "off"),
    ],
    ids=["jpeg", "png", "off", "heic-off"],
)
def test_moderation_mode(s3: S3Stub, enabled: str, data: bytes, size: int | None, mode: str) -> None:
    object_at(s3, "samples/landscape.jpg", data, size=size)
    payload = decide(event("object-created.json"), moderation={"enabled": enabled, "minConfidence": "80"})
    assert payload["verdict"] == "accepted"
    assert payload["moderation"] == {"mode": mode, "reason": ""}


@pytest.mark.parametrize(
    ("data", "size", "named"),
    [
        (images.animated("GIF"), None, "gif"),
        (images.heic(images.photo(64, 48)), None, "heif"),
        (images.save(images.photo(64, 48), "WEBP"), None, "webp"),
        (images.save(images.photo(64, 48), "TIFF"), None, "tiff"),
        (images.jpeg(64, 48), 15 * 1024 * 1024 + 1, "15728641 bytes"),
    ],
    ids=["gif", "heic", "webp", "tiff", "jpeg-over-15-MB"],
)
def test_with_moderation_on_what_rekognition_cannot_read_is_refused_by_name(
    s3: S3Stub, data: bytes, size: int | None, named: str
) -> None:
    """Never rendered unmoderated: a HEIC (or WebP, GIF, TIFF, a JPEG over 15 MB) would otherwise
    be the way round moderation. The refusal says why and what to do."""
    object_at(s3, "samples/landscape.jpg", data, size=size)
    payload = decide(event("object-created.json"), moderation={"enabled": "true", "minConfidence": "80"})
    assert payload["verdict"] == "rejected" and payload["source"] is None and payload["groups"] == []
    failure = payload["failure"]
    assert failure["error"] == "ImageRejected" and failure["reason"] == "not-moderatable"
    assert failure["cause"].startswith("not-moderatable: moderation is on")
    assert named in failure["cause"] and "JPEG and PNG" in failure["cause"]
    assert payload["moderation"]["mode"] == "not-possible"
    assert payload["rerun"] == {"bucket": BUCKET, "key": "samples/landscape.jpg"}  # e.g. with moderation off


# ----------------------------------------------------------------------------- rejected


def test_an_upload_that_is_not_an_image_is_rejected_and_can_be_rerun_once_replaced(s3: S3Stub) -> None:
    object_at(s3, "samples/landscape.jpg", images.SVG)
    payload = decide(event("object-created.json"))
    assert payload["verdict"] == "rejected"
    assert payload["failure"]["error"] == "ImageRejected" and payload["failure"]["reason"] == "svg"
    assert "svg" in payload["failure"]["cause"]
    assert payload["rerun"] == {"bucket": BUCKET, "key": "samples/landscape.jpg"}
    assert payload["object"]["key"] == "samples/landscape.jpg"
    failure = payload["failure"]
    assert (failure["kind"], failure["subject"], failure["event"]) == (
        "rejected", ALERTS["rejected"]["subject"], "Image Rejected")
    assert failure["advice"] == f'{ALERTS["rejected"]["advice"]} {ALERTS["rerun"]}'  # how to re-run it


def test_a_missing_object_is_rejected(s3: S3Stub) -> None:
    s3.no_source()
    payload = decide(event("bad/missing-object.json"))
    assert (payload["verdict"], payload["failure"]["reason"]) == ("rejected", "missing")


def test_another_bucket_is_rejected_without_a_request(s3: S3Stub) -> None:
    payload = decide(event("bad/wrong-bucket.json"))
    assert (payload["verdict"], payload["failure"]["reason"]) == ("rejected", "wrong-bucket")


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (["not", "an", "object"], "bad-input"),
        (json.loads((REPO / "events" / "bad" / "not-an-upload.json").read_text()), "bad-input"),
        ({"bucket": BUCKET, "key": "k" * 1025}, "key-too-long"),
    ],
)
def test_input_s3_cannot_serve_is_rejected_and_not_rerunnable(s3: S3Stub, raw: Any, reason: str) -> None:
    payload = decide(raw)
    assert (payload["verdict"], payload["failure"]["reason"]) == ("rejected", reason)
    assert payload["rerun"] is None
    failure = payload["failure"]
    assert (failure["kind"], failure["subject"]) == ("unusable", ALERTS["unusable"]["subject"])
    assert failure["advice"] == ALERTS["unusable"]["advice"]  # no re-run advice for what cannot be re-run


def test_a_huge_key_is_shortened_where_the_payload_repeats_it(s3: S3Stub) -> None:
    s3.no_source()
    payload = decide({"bucket": BUCKET, "key": "é" * 500})  # 1000 bytes: allowed, but long
    assert payload["failure"]["reason"] == "missing"
    assert len(payload["object"]["key"]) < 260
    assert payload["rerun"]["key"] == "é" * 500  # the re-run input must be exact


# ------------------------------------------------------------------ misconfigured, superseded, ignored


def test_a_bad_size_is_misconfigured_and_names_it(s3: S3Stub) -> None:
    sizes = [*SIZES, {"name": "poster", "width": 9000, "height": 100}]
    payload = decide(event("object-created.json"), sizes=sizes)
    assert payload["verdict"] == "misconfigured"
    assert (payload["failure"]["error"], payload["failure"]["reason"]) == ("ConfigError", "bad-size")
    assert "'poster'" in payload["failure"]["cause"]
    assert (payload["failure"]["kind"], payload["failure"]["event"]) == ("misconfigured", "Thumbnails Failed")
    assert payload["failure"]["subject"] == ALERTS["misconfigured"]["subject"]


def test_no_sizes_is_misconfigured(s3: S3Stub) -> None:
    assert decide(event("object-created.json"), sizes=[])["verdict"] == "misconfigured"


def test_a_stale_event_is_superseded(s3: S3Stub) -> None:
    s3.source(BUCKET, "samples/landscape.jpg", b"x" * 100, etag=ETAG)
    payload = decide(event("bad/stale-etag.json"))
    assert (payload["verdict"], payload["failure"]["reason"]) == ("superseded", "superseded")
    assert ETAG in payload["failure"]["cause"]


@pytest.mark.parametrize("kind", ["Object Deleted", "Object Tags Added"])
def test_an_s3_event_that_is_not_an_upload_is_ignored(s3: S3Stub, kind: str) -> None:
    raw = event("object-created.json")
    raw["detail-type"] = kind
    payload = decide(raw)
    assert (payload["verdict"], payload["failure"]["reason"]) == ("ignored", "not-an-upload")
    assert kind in payload["failure"]["cause"]


def test_a_suffix_outside_allowed_suffixes_is_ignored_on_events_only(s3: S3Stub) -> None:
    settings = Settings(BUCKET, "thumbs", 50 * 1024 * 1024, 100_000_000, allowed_suffixes=(".jpg", ".png"))
    payload = decide(event("object-created.json", key="samples/notes.txt"), settings=settings)
    assert (payload["verdict"], payload["failure"]["reason"]) == ("ignored", "suffix-not-allowed")
    assert payload["object"]["key"] == "samples/notes.txt"
    data = images.jpeg(64, 48)
    object_at(s3, "samples/PHOTO.JPG", data)  # suffixes match case-insensitively
    assert decide(event("object-created.json", key="samples/PHOTO.JPG"), settings=settings)["verdict"] == (
        "accepted")
    object_at(s3, "samples/notes.txt", data)  # an operator's manual run is not filtered
    assert decide({"bucket": BUCKET, "key": "samples/notes.txt"}, settings=settings)["verdict"] == "accepted"


def test_a_throttled_s3_is_raised_for_the_retry(s3: S3Stub) -> None:
    s3.error("get_object", "SlowDown", 503)
    with pytest.raises(TransientError):
        decide(event("object-created.json"))


@pytest.mark.parametrize("group_max", ["4MP", -1, 2.5, True, None])
def test_a_bad_group_size_is_misconfigured_before_any_request(s3: S3Stub, group_max: Any) -> None:
    verdict = validation.decide(event("object-created.json"), sizes=SIZES, group_max_pixels=group_max,
                                moderation={}, settings=SETTINGS)
    assert (verdict.verdict, verdict.reason) == ("misconfigured", "bad-grouping")
    assert "groupMaxPixels" in verdict.cause
    assert verdict.to_payload(ALERTS)["failure"]["kind"] == "misconfigured"
    assert s3.calls == []


def test_without_an_alert_table_the_failure_still_has_every_key() -> None:
    """A payload from an older definition (no alerts) still routes: a generic subject and event."""
    failure = validation.Verdict("rejected", error="ImageRejected", reason="svg", cause="svg").to_payload()[
        "failure"]
    assert set(failure) == FAILURE
    assert (failure["kind"], failure["subject"], failure["event"], failure["advice"]) == (
        "rejected", "thumbflow: rejected", "Image Rejected", "")


def test_the_kind_follows_the_verdict_and_whether_it_can_be_re_run() -> None:
    kinds = {(v, r): validation.Verdict(v, reason=r).kind() for v, r in [
        ("rejected", "svg"), ("rejected", "missing"), ("rejected", "bad-input"), ("rejected", "key-too-long"),
        ("misconfigured", "bad-size"), ("misconfigured", "bad-grouping")]}
    assert kinds == {("rejected", "svg"): "rejected", ("rejected", "missing"): "rejected",
                     ("rejected", "bad-input"): "unusable", ("rejected", "key-too-long"): "unusable",
                     ("misconfigured", "bad-size"): "misconfigured",
                     ("misconfigured", "bad-grouping"): "misconfigured"}
