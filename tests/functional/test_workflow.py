"""The whole workflow in local mode: the real template, definition and handlers."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from PIL import Image

from tests import images
from tests.functional.conftest import output, run_upload
from thumbflow.local.cloud import LocalCloud

SIZES = {(128, 128, "cover"), (256, 256, "inside"), (512, 512, "inside"), (1024, 1024, "inside")}


def configured_sizes(cloud: LocalCloud) -> list[dict[str, Any]]:
    return cloud.deployed.definition["States"]["Configure"]["Parameters"]["config"]["sizes"]


def fetch(cloud: LocalCloud, key: str) -> tuple[bytes, dict[str, str], dict[str, Any]]:
    s3 = cloud.client("s3")
    obj = s3.get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key)
    tags = s3.get_object_tagging(Bucket=cloud.deployed.thumbnail_bucket, Key=key)["TagSet"]
    return obj["Body"].read(), {t["Key"]: t["Value"] for t in tags}, obj


def expected_box(src_w: int, src_h: int, w: int, h: int, fit: str) -> tuple[int, int]:
    if fit == "cover":
        return min(w, src_w), min(h, src_h)
    scale = min(w / src_w, h / src_h, 1.0)
    return max(1, round(src_w * scale)), max(1, round(src_h * scale))


def check_thumbnails(cloud: LocalCloud, desc: dict[str, Any], src_w: int, src_h: int,
                     fmt: str) -> list[Image.Image]:
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    out = output(desc)
    thumbs = out["thumbnails"]
    sizes = configured_sizes(cloud)
    assert sorted(t["size"] for t in thumbs) == sorted(f"{s['width']}x{s['height']}" for s in sizes)
    opened = []
    for spec in sizes:
        label = f"{spec['width']}x{spec['height']}"
        (thumb,) = [t for t in thumbs if t["size"] == label]
        body, tags, obj = fetch(cloud, thumb["key"])
        im = Image.open(io.BytesIO(body))
        want = expected_box(src_w, src_h, spec["width"], spec["height"], spec["fit"])
        assert abs(im.width - want[0]) <= 1 and abs(im.height - want[1]) <= 1, (label, im.size, want)
        assert (thumb["width"], thumb["height"]) == im.size
        assert thumb["bytes"] == len(body)
        assert im.format.lower() == fmt == thumb["format"]
        assert tags["thumbnail"] == "yes"
        assert tags["thumbnail-size"] == label
        assert tags["source-etag"] == out["source"]["etag"]
        assert obj["ContentType"] == f"image/{fmt}"
        assert obj["CacheControl"]
        assert not im.getexif(), "EXIF must be stripped"
        assert "exif" not in im.info and "icc_profile" not in im.info
        opened.append(im)
    return opened


def test_jpeg_becomes_every_configured_size(cloud: LocalCloud) -> None:
    _, desc = run_upload(cloud, "happy/landscape.jpg", images.jpeg(1600, 1000))
    ims = check_thumbnails(cloud, desc, 1600, 1000, "jpeg")
    assert {im.mode for im in ims} == {"RGB"}
    keys = {t["key"] for t in output(desc)["thumbnails"]}
    assert "happy/landscape_256x256.jpg" in keys


def test_png_with_alpha_keeps_transparency(cloud: LocalCloud) -> None:
    _, desc = run_upload(cloud, "happy/logo.png", images.png_alpha(800, 600))
    ims = check_thumbnails(cloud, desc, 800, 600, "webp")
    for im in ims:
        assert im.mode == "RGBA"
        assert im.getextrema()[3][0] < 255, "transparent pixels must stay transparent"


def test_exif_rotated_jpeg_comes_out_upright(cloud: LocalCloud) -> None:
    # Stored 1200x900 landscape, EXIF orientation 6: displayed as 900x1200 portrait.
    _, desc = run_upload(cloud, "happy/rotated.jpg", images.jpeg(1200, 900, orientation=6))
    ims = check_thumbnails(cloud, desc, 900, 1200, "jpeg")
    large = max(ims, key=lambda im: im.width * im.height)
    assert large.height > large.width
    # The sky (top rows of the stored image, blue-ish) is on the displayed right after rotation 6.
    right = large.crop((large.width - 4, 0, large.width, large.height)).resize((1, 1)).getpixel((0, 0))
    left = large.crop((0, 0, 4, large.height)).resize((1, 1)).getpixel((0, 0))
    assert right[2] > left[2], (left, right)


@pytest.mark.parametrize(
    "key",
    ["keys/with space.jpg", "keys/plus+sign.jpg", "keys/per%cent.jpg", "keys/ünïcødé 写真.jpg",
     "a/b/c/d/nested.deep.name.jpg", "keys/no-extension"],
)
def test_awkward_keys(cloud: LocalCloud, key: str) -> None:
    _, desc = run_upload(cloud, key, images.jpeg(300, 200))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    out = output(desc)
    assert out["source"]["key"] == key
    stem = key.rsplit(".", 1)[0] if "." in key.rsplit("/", 1)[-1] else key
    for thumb in out["thumbnails"]:
        assert thumb["key"] == f"{stem}_{thumb['size']}.jpg"
        body, _, _ = fetch(cloud, thumb["key"])
        assert Image.open(io.BytesIO(body)).format == "JPEG"


def test_url_encoded_key_in_event_is_resolved(cloud: LocalCloud) -> None:
    key = "encoded/my photo (1)+x.jpg"
    run_upload(cloud, key, images.jpeg(300, 200))
    event = {"detail-type": "Object Created", "source": "aws.s3",
             "detail": {"bucket": {"name": cloud.deployed.source_bucket},
                        "object": {"key": "encoded/my+photo+%281%29%2Bx.jpg"}}}
    desc = cloud.wait(cloud.execute(event))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert output(desc)["source"]["key"] == key


def rejected_cases() -> list[tuple[str, bytes, str]]:
    good = images.jpeg(640, 480)
    return [
        ("bad/zero.jpg", b"", "empty"),
        ("bad/truncated.jpg", good[: len(good) // 2], "truncated"),
        ("bad/text.jpg", images.TEXT, "text"),
        ("bad/vector.svg", images.SVG, "svg"),
        ("bad/bomb.png", images.png_claiming(100_000, 100_000), "too-many-pixels"),
    ]


@pytest.mark.parametrize(("key", "body", "reason"), rejected_cases(), ids=lambda v: str(v)[:20])
def test_bad_input_is_rejected_with_one_alert(cloud: LocalCloud, key: str, body: bytes,
                                              reason: str) -> None:
    alerts_before = len(cloud.alerts())
    arn, desc = run_upload(cloud, key, body)
    assert desc["status"] == "FAILED"
    assert desc["error"] == "ImageRejected"
    assert desc["cause"].startswith(f"{reason}:") or desc["cause"] == reason, desc["cause"]
    alerts = [a for a in cloud.alerts()[alerts_before:] if a.body.get("execution") == arn]
    assert len(alerts) == 1
    body_json = alerts[0].body
    assert body_json["error"] == "ImageRejected"
    assert reason in body_json["cause"]
    assert body_json["key"] == key and body_json["bucket"] == cloud.deployed.source_bucket
    assert body_json["console"].startswith("https://")
    assert body_json["rerunInput"] == {"bucket": cloud.deployed.source_bucket, "key": key}
    assert "start-execution" in body_json["howToRerun"]
    stem = key.rsplit(".", 1)[0]
    assert not [k for k in cloud.objects(cloud.deployed.thumbnail_bucket) if k.startswith(stem + "_")]
    s3 = cloud.client("s3")
    src = s3.get_object(Bucket=cloud.deployed.source_bucket, Key=key)
    assert src["Body"].read() == body
    assert s3.get_object_tagging(Bucket=cloud.deployed.source_bucket, Key=key)["TagSet"] == []


def test_input_that_is_not_an_upload_is_rejected(cloud: LocalCloud) -> None:
    desc = cloud.wait(cloud.execute({"hello": "world"}))
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected"
    assert desc["cause"].startswith("bad-input")


def test_missing_object_is_rejected(cloud: LocalCloud) -> None:
    desc = cloud.wait(cloud.execute({"bucket": cloud.deployed.source_bucket, "key": "nope.jpg"}))
    assert desc["error"] == "ImageRejected" and desc["cause"].startswith("missing")


def test_rerunning_an_input_gives_identical_bytes(cloud: LocalCloud) -> None:
    arn, desc = run_upload(cloud, "rerun/photo.jpg", images.jpeg(900, 700))
    first = {t["key"]: fetch(cloud, t["key"])[0] for t in output(desc)["thumbnails"]}
    original_input = json.loads(cloud.describe(arn)["input"])
    # Same input again: finds the thumbnails already made from these bytes and reuses them.
    again = output(cloud.wait(cloud.execute(original_input)))
    assert all(t["reused"] for t in again["thumbnails"])
    # With the thumbnails gone, the same input renders them again, byte for byte.
    s3 = cloud.client("s3")
    for key in first:
        s3.delete_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key)
    rendered = output(cloud.wait(cloud.execute(original_input)))
    assert not any(t["reused"] for t in rendered["thumbnails"])
    assert {t["key"]: fetch(cloud, t["key"])[0] for t in rendered["thumbnails"]} == first


def test_stale_event_is_superseded(cloud: LocalCloud) -> None:
    arn, _ = run_upload(cloud, "stale/photo.jpg", images.jpeg(300, 200))
    old_event = json.loads(cloud.describe(arn)["input"])
    run_upload(cloud, "stale/photo.jpg", images.jpeg(320, 240))
    desc = cloud.wait(cloud.execute(old_event))
    assert desc["status"] == "SUCCEEDED"
    assert output(desc)["outcome"] == "superseded"
    _, tags, _ = fetch(cloud, "stale/photo_512x512.jpg")
    assert tags["source-etag"] != old_event["detail"]["object"]["etag"]
