"""Every execution input ends with a named outcome, and an alert when someone must act.

Inputs started by hand (the console's New execution, `thumbflow execute`) can be
anything: malformed events, wrong types, oversized keys, events that are not uploads.
None may end in a bare States.Runtime failure without an alert.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests import images
from tests.functional.conftest import load_event, output, run_upload
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud


def event_for(cloud: LocalCloud, key: str, **changes: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event("object-created.json"))
    event["detail"]["bucket"]["name"] = cloud.deployed.source_bucket
    event["detail"]["object"]["key"] = key
    event["detail"]["object"].pop("etag", None)
    for path, value in changes.items():
        node = event
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return event


def alerts_of(cloud: LocalCloud, arn: str) -> list[dict[str, Any]]:
    return [a.body for a in cloud.alerts() if a.body.get("execution") == arn]


REJECTED = [
    ("no bucket name", lambda c: event_for(c, "in/a.jpg", **{"detail.bucket.name": None}), "bad-input"),
    ("bucket name a number", lambda c: event_for(c, "in/a.jpg", **{"detail.bucket.name": 7}), "bad-input"),
    ("key a list", lambda c: event_for(c, "in/a.jpg", **{"detail.object.key": ["a"]}), "bad-input"),
    ("no detail", lambda c: {"source": "aws.s3", "detail-type": "Object Created"}, "bad-input"),
    ("not S3", lambda c: {**event_for(c, "in/a.jpg"), "source": "my.app"}, "bad-input"),
    ("a list", lambda c: [1, 2, 3], "bad-input"),
    ("a string", lambda c: "photos/cat.jpg", "bad-input"),
    ("manual key empty", lambda c: {"bucket": c.deployed.source_bucket, "key": ""}, "bad-input"),
    ("manual key 1,025 bytes", lambda c: {"bucket": c.deployed.source_bucket, "key": "k" * 1025},
     "key-too-long"),
    ("manual key 200 KB", lambda c: {"bucket": c.deployed.source_bucket, "key": "k" * 200_000},
     "key-too-long"),
    ("lone surrogate", lambda c: {"bucket": c.deployed.source_bucket, "key": "a\ud800.jpg"}, "bad-input"),
]


@pytest.mark.parametrize(("case", "build", "reason"), REJECTED, ids=[c[0] for c in REJECTED])
def test_malformed_input_is_a_named_rejection_with_an_alert(
    cloud: LocalCloud, case: str, build: Any, reason: str
) -> None:
    desc = cloud.wait(cloud.execute(build(cloud)))
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected", desc
    assert desc["cause"].startswith(f"{reason}:"), desc["cause"]
    alerts = alerts_of(cloud, desc["executionArn"])
    (alert,) = alerts
    assert alert["error"] == "ImageRejected" and alert["cause"] == desc["cause"]
    assert len(json.dumps(alert)) < 8 * 1024  # a huge key is not repeated in full
    assert "cannot be re-run as it is" in alert["howToRerun"]
    record("Inputs", case, f"FAILED ImageRejected ({reason}), one alert",
           f"{desc['status']} {desc['error']} ({desc['cause'].split(':')[0]}), {len(alerts)} alert")


@pytest.mark.parametrize("detail_type", ["Object Deleted", "Object Tags Added", "Object Restore Completed"])
def test_s3_events_that_are_not_uploads_are_ignored_by_name(cloud: LocalCloud, detail_type: str) -> None:
    key = f"in/not-upload-{detail_type.replace(' ', '-')}.jpg"
    run_upload(cloud, key, images.jpeg(64, 48))
    event = event_for(cloud, key, **{"detail-type": detail_type})
    desc = cloud.wait(cloud.execute(event))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert output(desc)["outcome"] == "ignored"
    assert output(desc)["reason"].startswith("not-an-upload")
    assert output(desc)["thumbnails"] == []
    assert alerts_of(cloud, desc["executionArn"]) == []
    record("Inputs", f"'{detail_type}' event given as input", "SUCCEEDED ignored, no thumbnails, no alert",
           f"{desc['status']} {output(desc)['outcome']}, {len(output(desc)['thumbnails'])} thumbnails, "
           f"{len(alerts_of(cloud, desc['executionArn']))} alerts")


def test_version_the_bucket_does_not_have_is_a_named_rejection(cloud: LocalCloud) -> None:
    key = "in/versioned.jpg"
    run_upload(cloud, key, images.jpeg(64, 48))
    desc = cloud.wait(cloud.execute({"bucket": cloud.deployed.source_bucket, "key": key,
                                     "version": "no-such-version-3HL4kqtJlcpXroDTDmJ"}))
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected", desc
    reason = desc["cause"].split(":")[0]
    assert reason in ("bad-version", "missing"), desc["cause"]
    alerts = alerts_of(cloud, desc["executionArn"])
    assert len(alerts) == 1
    record("Inputs", "a version id the bucket does not have", "FAILED ImageRejected (named), one alert",
           f"{desc['status']} {desc['error']} ({reason}), {len(alerts)} alert")
