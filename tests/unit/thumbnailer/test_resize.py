"""The Resize handler: a Map item in, the group with its outcome out (made, rejected, superseded)."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from PIL import Image
from thumbnailer.errors import TransientError
from thumbnailer.records import PinnedSource
from thumbnailer.resize import handler
from thumbnailer.spec import SizeSpec

from tests import images
from tests.unit.conftest import SOURCE, Context, S3Stub, emitted_metrics

DATA = images.jpeg(640, 480)
PINNED = PinnedSource(SOURCE, "up/cat.jpg", "e1", None, len(DATA), "jpeg", 640, 480)
SIZES = [SizeSpec(256, 256, format="jpeg").to_dict(), SizeSpec(64, 64, "cover", "png").to_dict()]
KEYS = {"sizes", "labels", "outcome", "thumbnails", "reason", "cause"}


@pytest.fixture(autouse=True)
def environment(env: Callable[..., Any]) -> None:
    env()


def item() -> dict[str, Any]:
    """What the definition's Render the group state sends."""
    return {"source": PINNED.to_payload(), "sizes": SIZES, "execution": "arn:unit:exec"}


STEM = "up/cat"


def absent(s3: S3Stub) -> None:
    """A new upload: its stem has no name claim, so nothing is stored to look for (no HEADs)."""
    s3.claim(STEM)


def test_made(s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    absent(s3)
    s3.get(SOURCE, PINNED.key, DATA, etag="e1", IfMatch='"e1"')
    s3.head(SOURCE, PINNED.key, etag="e1", size=len(DATA), IfMatch='"e1"')
    s3.claim_put(STEM, PINNED.key)  # the claim read first is not read again
    s3.put()
    s3.put()
    out = handler(item(), context)
    assert set(out) == KEYS
    assert (out["outcome"], out["reason"], out["cause"]) == ("made", "", "")
    assert out["labels"] == ["256x256", "64x64"]
    assert out["sizes"] == SIZES  # the group itself, so a retry pass can redo it
    assert [(t["key"], t["width"], t["height"], t["format"]) for t in out["thumbnails"]] == [
        ("up/cat_256x256.jpg", 256, 192, "jpeg"), ("up/cat_64x64.png", 64, 64, "png")]
    assert [t["path"] for t in out["thumbnails"]] == ["/up/cat_256x256.jpg", "/up/cat_64x64.png"]
    bodies = [Image.open(io.BytesIO(p["Body"])) for p in s3.made("PutObject")]  # the claim is no object
    assert [(im.format, im.size) for im in bodies] == [("JPEG", (256, 192)), ("PNG", (64, 64))]
    assert emitted_metrics(capsys.readouterr().out) == {"ThumbnailsWritten": 2, "ThumbnailsReused": 0}


def test_rejected_while_decoding(s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    absent(s3)
    s3.get(SOURCE, PINNED.key, DATA[: len(DATA) // 3], etag="e1", IfMatch='"e1"')  # cut short
    out = handler(item(), context)
    assert set(out) == KEYS
    assert out["outcome"] == "rejected" and out["thumbnails"] == []
    assert out["reason"] == "truncated" and out["cause"].startswith("truncated")
    assert s3.made("PutObject") == []
    assert emitted_metrics(capsys.readouterr().out) == {"ImagesRejected": 1}


def test_superseded(s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]) -> None:
    absent(s3)
    s3.error("get_object", "PreconditionFailed", 412)
    out = handler(item(), context)
    assert set(out) == KEYS
    assert (out["outcome"], out["reason"]) == ("superseded", "superseded") and "e1" in out["cause"]
    assert emitted_metrics(capsys.readouterr().out) == {"ImagesSuperseded": 1}


@pytest.mark.filterwarnings("ignore:No application metrics")
def test_transient_failures_are_raised_for_the_retry(s3: S3Stub, context: Context) -> None:
    absent(s3)
    s3.error("get_object", "SlowDown", 503)
    with pytest.raises(TransientError):
        handler(item(), context)
