"""Operator-facing configuration: Configure edits and moderation, each in its own cloud."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests import images
from tests.functional.conftest import TIME_SCALE, output, run_upload
from tests.functional.test_failures import definition_with
from thumbflow.local.cloud import LocalCloud
from thumbflow.serve import RESIZER, function_url_event


def test_adding_a_size_in_configure_makes_that_size(tmp_path: Path) -> None:
    extra = {"name": "banner", "width": 300, "height": 100, "fit": "cover", "format": "webp",
             "quality": 70}
    with LocalCloud(definition_path=definition_with(tmp_path, add_size=extra),
                    time_scale=TIME_SCALE) as cloud:
        _, desc = run_upload(cloud, "sizes/photo.jpg", images.jpeg(900, 600))
        assert desc["status"] == "SUCCEEDED", desc.get("cause")
        (banner,) = [t for t in output(desc)["thumbnails"] if t["size"] == "300x100"]
        assert (banner["width"], banner["height"], banner["format"]) == (300, 100, "webp")
        assert banner["key"] == "sizes/photo_300x100.webp"
        assert len(output(desc)["thumbnails"]) == 5


def test_bad_size_in_configure_is_a_config_error_naming_it(tmp_path: Path) -> None:
    huge = {"name": "huge", "width": 9000, "height": 10}
    with LocalCloud(definition_path=definition_with(tmp_path, add_size=huge),
                    time_scale=TIME_SCALE) as cloud:
        arn, desc = run_upload(cloud, "sizes/any.jpg", images.jpeg(64, 48))
        assert desc["status"] == "FAILED" and desc["error"] == "ConfigError", desc
        assert "'huge'" in desc["cause"] and "9000x10" in desc["cause"]
        (alert,) = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
        assert alert["error"] == "ConfigError" and "Configure" in alert["howToRerun"]
        assert cloud.objects(cloud.deployed.thumbnail_bucket) == []


def test_flagged_image_gets_tags_alert_and_no_thumbnails() -> None:
    flagged = {"moderation/bad.jpg": [{"Name": "Explicit Nudity", "Confidence": 97.5,
                                       "ParentName": ""}],
               "moderation/mild.jpg": [{"Name": "Suggestive", "Confidence": 60.0,
                                        "ParentName": ""}]}
    with LocalCloud(parameters={"ModerationEnabled": "true", "ModerationMinConfidence": "80"},
                    moderation_labels=lambda bucket, key: flagged.get(key, []),
                    time_scale=TIME_SCALE) as cloud:
        s3 = cloud.client("s3")
        body = images.jpeg(640, 480)
        s3.put_object(Bucket=cloud.deployed.source_bucket, Key="moderation/bad.jpg", Body=body,
                      Tagging="owner=alice")
        (arn,) = [a for a, ev in cloud.started if ev["detail"]["object"]["key"] == "moderation/bad.jpg"]
        desc = cloud.wait(arn)
        assert desc["status"] == "FAILED" and desc["error"] == "ImageFlagged"
        assert "Explicit Nudity" in desc["cause"]
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(
            Bucket=cloud.deployed.source_bucket, Key="moderation/bad.jpg")["TagSet"]}
        assert tags == {"owner": "alice", "moderation": "flagged",
                        "moderation-label": "Explicit Nudity"}
        assert s3.get_object(Bucket=cloud.deployed.source_bucket,
                             Key="moderation/bad.jpg")["Body"].read() == body
        assert cloud.objects(cloud.deployed.thumbnail_bucket) == []
        alerts = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
        assert len(alerts) == 1 and alerts[0]["error"] == "ImageFlagged"
        # Below the minimum confidence: thumbnails as usual.
        _, mild = run_upload(cloud, "moderation/mild.jpg", body)
        assert mild["status"] == "SUCCEEDED"
        assert len(output(mild)["thumbnails"]) == 4
        # Rekognition cannot read WebP: refused by name, never rendered unmoderated.
        webp = images.photo(300, 200)
        buf = io.BytesIO()
        webp.save(buf, "WEBP")
        arn_w, desc_w = run_upload(cloud, "moderation/pic.webp", buf.getvalue())
        assert desc_w["status"] == "FAILED" and desc_w["error"] == "ImageRejected", desc_w
        assert desc_w["cause"].startswith("not-moderatable") and "webp" in desc_w["cause"]
        assert "DetectModerationLabels" not in json.dumps(cloud.history(arn_w), default=str)
        made = cloud.objects(cloud.deployed.thumbnail_bucket)
        assert not [k for k in made if k.startswith("moderation/pic_")]
        # On demand, a URL is no way round moderation: only a source the workflow passed renders.
        answers = {key: on_demand(cloud, f"/moderation/{key}_200x200.jpg") for key in ("bad", "pic", "mild")}
        assert answers["bad"] == (403, "not-moderated")  # flagged
        assert answers["pic"] == (403, "not-moderated")  # not-moderatable (WebP)
        assert answers["mild"] == (200, "rendered")  # passed: the workflow made its sizes
        made = cloud.objects(cloud.deployed.thumbnail_bucket)
        assert "moderation/mild_200x200.jpg" in made
        assert not [k for k in made if k.startswith(("moderation/bad_", "moderation/pic_"))]


def on_demand(cloud: LocalCloud, path: str) -> tuple[int, str]:
    """(status, the resizer's outcome) of one GET through the on-demand resizer's function URL."""
    body, error = cloud.invoke(RESIZER, function_url_event(path, "GET", {}, "localhost"))
    assert error is None, body
    response = json.loads(body)
    headers = response.get("headers") or {}
    if headers.get("Content-Type") == "application/json":
        return int(response["statusCode"]), json.loads(response["body"])["error"]
    return int(response["statusCode"]), headers.get("X-Thumbnail-Source", "")
