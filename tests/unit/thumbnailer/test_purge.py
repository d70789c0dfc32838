"""The Purge handler: S3's Object Deleted event (or {bucket, key}) in, what was purged out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from thumbnailer.purge import handler

from tests.unit.conftest import (
    REPO,
    SOURCE,
    THUMBS,
    Context,
    S3Stub,
    emitted_metrics,
)

DEFINITION = json.loads((REPO / "statemachine" / "purge.asl.json").read_text())
KEYS = {"verdict", "object", "purge", "failure"}
PURGE = {"source", "purged", "kept", "claimReleased", "paths"}


def deleted_event(key: str = "up/cat.jpg", bucket: str = SOURCE) -> dict[str, Any]:
    """Object Deleted as S3 sends it to EventBridge (a delete marker in a versioned bucket)."""
    return {
        "version": "0", "id": "2ee9cc15-d022-99ea-1fb8-1b1bac4850f9", "detail-type": "Object Deleted",
        "source": "aws.s3", "account": "123456789012", "time": "2026-11-23T17:00:00Z", "region": "us-east-1",
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {"version": "0", "bucket": {"name": bucket},
                   "object": {"key": key, "version-id": "dm-1", "sequencer": "617f0837b476e463"},
                   "request-id": "0BH729840619AG5K", "requester": "123456789012",
                   "source-ip-address": "198.51.100.7", "reason": "DeleteObject",
                   "deletion-type": "Delete Marker Created"},
    }


@pytest.fixture(autouse=True)
def environment(env: Callable[..., Any]) -> None:
    env()


def purges_one(s3: S3Stub, key: str = "up/cat.jpg", stem: str = "up/cat") -> None:
    """The source is gone; one thumbnail of it is stored; its claim is its own."""
    s3.error("head_object", "404", 404, {"Bucket": SOURCE, "Key": key})
    s3.stubber.add_response("list_objects_v2", {"IsTruncated": False, "KeyCount": 1,
                                                "Contents": [{"Key": f"{stem}_128x128.jpg", "ETag": '"t1"'}]},
                            {"Bucket": THUMBS, "Prefix": stem + "_"})
    s3.head(THUMBS, f"{stem}_128x128.jpg", etag="t1", size=5,
            metadata={"source-key": key, "source-etag": "e1"})
    s3.stubber.add_response("delete_object", {}, {"Bucket": THUMBS, "Key": f"{stem}_128x128.jpg",
                                                  "IfMatch": '"t1"'})
    s3.release(stem, key)
    s3.error("head_object", "404", 404, {"Bucket": SOURCE, "Key": key})  # still free after the release


def test_a_deleted_source_is_purged_and_the_answer_has_what_the_definition_reads(
    s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    purges_one(s3)
    out = handler({"input": deleted_event(), "execution": "arn:unit:exec"}, context)
    selector = DEFINITION["States"]["Purge the thumbnails"]["ResultSelector"]
    assert {path.removeprefix("$.Payload.") for path in selector.values()} == set(out) == KEYS
    assert (out["verdict"], out["object"], out["failure"]) == (
        "purged", {"bucket": SOURCE, "key": "up/cat.jpg"}, None)
    assert set(out["purge"]) == PURGE
    assert out["purge"] == {"source": {"bucket": SOURCE, "key": "up/cat.jpg"},
                            "purged": ["up/cat_128x128.jpg"], "kept": [], "claimReleased": True,
                            "paths": ["/up/cat_128x128.jpg"]}  # the workflow invalidates these
    assert emitted_metrics(capsys.readouterr().out) == {"ThumbnailsPurged": 1}
    invalidate = DEFINITION["States"]["Invalidate the purged paths"]["Parameters"]["InvalidationBatch"]
    assert invalidate["Paths"]["Items.$"] == "$.purged.purge.paths"  # what the workflow sends CloudFront


def test_a_manual_input_purges_too(s3: S3Stub, context: Context) -> None:
    purges_one(s3, "x/y.png", "x/y")
    out = handler({"input": {"bucket": SOURCE, "key": "x/y.png"}, "execution": "arn:unit:exec"}, context)
    assert out["purge"]["purged"] == ["x/y_128x128.jpg"]


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_an_event_that_is_not_a_deletion_is_ignored_by_name(s3: S3Stub, context: Context) -> None:
    raw = {**deleted_event(), "detail-type": "Object Created"}
    out = handler({"input": raw, "execution": "arn:unit:exec"}, context)
    assert set(out) == KEYS
    assert (out["verdict"], out["purge"]) == ("ignored", None)
    assert out["failure"]["reason"] == "not-a-deletion" and "Object Created" in out["failure"]["cause"]
    assert s3.calls == []


@pytest.mark.filterwarnings("ignore:No application metrics")
@pytest.mark.parametrize(
    ("raw", "reason"),
    [(deleted_event(bucket="decoy-bucket"), "wrong-bucket"), ({"bucket": "decoy-bucket", "key": "k.jpg"},
                                                             "wrong-bucket"),
     ({"hello": "world"}, "bad-input"), (None, "bad-input"), ({"bucket": SOURCE, "key": ""}, "bad-input")],
    ids=["event-other-bucket", "manual-other-bucket", "neither-shape", "null", "empty-key"],
)
def test_what_names_no_source_of_ours_is_rejected_before_any_request(
    s3: S3Stub, context: Context, raw: Any, reason: str
) -> None:
    out = handler({"input": raw, "execution": "arn:unit:exec"}, context)
    assert set(out) == KEYS
    assert (out["verdict"], out["purge"], out["failure"]["reason"]) == ("rejected", None, reason)
    assert out["failure"]["error"] == "ImageRejected" and out["failure"]["cause"].startswith(reason)
    assert s3.calls == []
