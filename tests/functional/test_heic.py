"""HEIC through the whole workflow in local mode: a phone's portrait photo, and moderation.

A phone stores a portrait photo's pixels as the sensor saw them (landscape) and says how to
turn them twice over: an ``irot`` box, which libheif applies while it decodes, and an EXIF
orientation of 6 beside it, which must then not turn the pixels a second time.
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image

from tests import images
from tests.functional.conftest import TIME_SCALE, output, run_upload
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud

TOLERANCE = 45


def upright(im: Image.Image) -> bool:
    """The quadrant colours at the quadrant centres, in reading order."""
    rgb = im.convert("RGB")
    w, h = rgb.size
    points = [(w // 4, h // 4), (3 * w // 4, h // 4), (w // 4, 3 * h // 4), (3 * w // 4, 3 * h // 4)]
    return all(
        all(abs(a - b) <= TOLERANCE for a, b in zip(rgb.getpixel(p), want, strict=True))  # type: ignore[arg-type]
        for p, want in zip(points, images.QUADRANTS, strict=True)
    )


EXIF_ORIENTATION_6 = b"\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06"  # tag 0x0112, SHORT, 1 value: 6 ("MM")


def test_a_portrait_heic_from_a_phone_becomes_upright_thumbnails() -> None:
    body = images.oriented_heic(6, 480, 720)  # displayed 480x720; stored 720x480 with irot
    assert b"irot" in body and EXIF_ORIENTATION_6 in body  # both carriers, as a phone writes them
    with LocalCloud(time_scale=TIME_SCALE) as cloud:
        _, desc = run_upload(cloud, "phone/IMG_1234.HEIC", body)
        seen = _check_upright_thumbnails(cloud, desc)
    record("HEIC input", "portrait phone photo (irot and EXIF 6) through the workflow",
           "every thumbnail portrait and upright, turned once", "; ".join(sorted(seen)))


def _check_upright_thumbnails(cloud: LocalCloud, desc: dict[str, Any]) -> list[str]:
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    made = output(desc)["thumbnails"]
    assert {t["size"] for t in made} == {"128x128", "256x256", "512x512", "1024x1024"}
    s3 = cloud.client("s3")
    seen = []
    for thumb in made:
        got = s3.get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=thumb["key"])
        data = got["Body"].read()
        im = Image.open(io.BytesIO(data))
        assert thumb["key"].startswith("phone/IMG_1234_") and thumb["key"].endswith(".jpg")
        assert im.format == "JPEG" and got["ContentType"] == "image/jpeg"
        if thumb["size"] != "128x128":  # inside: portrait, never upscaled
            box = int(thumb["size"].split("x")[0])
            scale = min(1.0, box / 720)
            assert im.size == (round(480 * scale), round(720 * scale)), (thumb["size"], im.size)
        assert upright(im), (thumb["size"], im.size)
        assert im.getexif() == {} and "icc_profile" not in im.info  # no metadata rides along
        seen.append(f"{thumb['size']} {im.width}x{im.height}")
    return seen


def test_with_moderation_on_a_heic_is_refused_by_name_and_alerts_never_rendered_unmoderated() -> None:
    """Rekognition reads JPEG and PNG only: a HEIC is not moderated by the back door."""
    with LocalCloud(parameters={"ModerationEnabled": "true", "ModerationMinConfidence": "80"},
                    moderation_labels=lambda bucket, key: [], time_scale=TIME_SCALE) as cloud:
        arn, desc = run_upload(cloud, "phone/IMG_0002.heic", images.oriented_heic(6, 320, 480))
        assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected", desc
        assert desc["cause"].startswith("not-moderatable") and "heif" in desc["cause"]
        (alert,) = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
        assert alert["error"] == "ImageRejected" and "not-moderatable" in alert["cause"]
        history = json.dumps(cloud.history(arn), default=str)
        assert "DetectModerationLabels" not in history and "detectModerationLabels" not in history
        assert cloud.objects(cloud.deployed.thumbnail_bucket) == []
        # A JPEG in the same cloud is moderated (no labels) and rendered as usual.
        arn_j, jpeg = run_upload(cloud, "phone/IMG_0003.jpg", images.oriented_jpeg(6))
        assert jpeg["status"] == "SUCCEEDED", jpeg.get("cause")
        assert "detectModerationLabels" in json.dumps(cloud.history(arn_j), default=str)
        record("HEIC input", "HEIC with moderation on",
               "ImageRejected not-moderatable, alert, nothing rendered; a JPEG is moderated",
               f"{desc['error']} {desc['cause'].split(':')[0]}, {len([alert])} alert, "
               f"{len(output(jpeg)['thumbnails'])} JPEG thumbnails after moderation")
