"""The events local mode delivers for S3 changes have the shape the S3 user guide documents.

The samples below are copied from "EventBridge event message structure",
https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html (Object created;
Object deleted using DeleteObject). Built from the same facts, local mode's event must
equal the sample but for ``id`` (a fresh UUID v4 per event), and Powertools' data class
for these events must read every value back.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from thumbflow.local import s3events
from thumbflow.local.s3events import ObjectFacts, RequestFacts, Sequencer, s3_event, wanted

ROOT = Path(__file__).resolve().parents[4]

OBJECT_CREATED = {
    "version": "0",
    "id": "17793124-05d4-b198-2fde-7ededc63b103",
    "detail-type": "Object Created",
    "source": "aws.s3",
    "account": "111122223333",
    "time": "2021-11-12T00:00:00Z",
    "region": "ca-central-1",
    "resources": ["arn:aws:s3:::amzn-s3-demo-bucket1"],
    "detail": {
        "version": "0",
        "bucket": {"name": "amzn-s3-demo-bucket1"},
        "object": {
            "key": "example-key",
            "size": 5,
            "etag": "b1946ac92492d2347c6235b4d2611184",
            "version-id": "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
            "sequencer": "617f08299329d189",
        },
        "request-id": "N4N7GDK58NMKJ12R",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "PutObject",
    },
}

OBJECT_DELETED = {
    "version": "0",
    "id": "2ee9cc15-d022-99ea-1fb8-1b1bac4850f9",
    "detail-type": "Object Deleted",
    "source": "aws.s3",
    "account": "111122223333",
    "time": "2021-11-12T00:00:00Z",
    "region": "ca-central-1",
    "resources": ["arn:aws:s3:::amzn-s3-demo-bucket1"],
    "detail": {
        "version": "0",
        "bucket": {"name": "amzn-s3-demo-bucket1"},
        "object": {
            "key": "example-key",
            "etag": "d41d8cd98f00b204e9800998ecf8427e",
            "version-id": "1QW9g1Z99LUNbvaaYVpW9xDlOLU.qxgF",
            "sequencer": "617f0837b476e463",
        },
        "request-id": "0BH729840619AG5K",
        "requester": "123456789012",
        "source-ip-address": "1.2.3.4",
        "reason": "DeleteObject",
        "deletion-type": "Delete Marker Created",
    },
}
WHEN = dt.datetime(2021, 11, 12, tzinfo=dt.UTC)


def from_sample(sample: dict[str, Any], notification: str, operation: str,
                size: int | None) -> dict[str, Any]:
    """Local mode's event for the change the sample describes, built from the sample's facts."""
    detail, obj = sample["detail"], sample["detail"]["object"]
    return s3_event(
        notification, bucket=detail["bucket"]["name"], region=sample["region"], account=sample["account"],
        obj=ObjectFacts(obj["key"], size, f'"{obj["etag"]}"', obj.get("version-id")),
        request=RequestFacts(operation, detail["request-id"], detail["requester"],
                             detail["source-ip-address"]),
        sequencer=obj["sequencer"], when=WHEN)


def without_id(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "id"}


def test_object_created_is_the_documented_event() -> None:
    event = from_sample(OBJECT_CREATED, "s3:ObjectCreated:Put", "PutObject", 5)
    assert without_id(event) == without_id(OBJECT_CREATED)
    assert uuid.UUID(event["id"]).version == 4
    assert event["id"] != from_sample(OBJECT_CREATED, "s3:ObjectCreated:Put", "PutObject", 5)["id"]


def test_object_deleted_is_the_documented_event() -> None:
    event = from_sample(OBJECT_DELETED, "s3:ObjectRemoved:DeleteMarkerCreated", "DeleteObject", None)
    assert without_id(event) == without_id(OBJECT_DELETED)


def test_powertools_reads_every_value() -> None:
    created = from_sample(OBJECT_CREATED, "s3:ObjectCreated:Put", "PutObject", 5)
    event = S3EventBridgeNotificationEvent(created)
    obj = event.detail.object
    assert (obj.key, obj.size, obj.etag, obj.version_id, obj.sequencer) == (
        "example-key", 5, "b1946ac92492d2347c6235b4d2611184", "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
        "617f08299329d189")
    detail = event.detail
    assert (detail.version, detail.bucket.name, detail.request_id, detail.requester,
            detail.source_ip_address, detail.reason) == (
        "0", "amzn-s3-demo-bucket1", "N4N7GDK58NMKJ12R", "123456789012", "1.2.3.4", "PutObject")
    assert (event.detail_type, event.source, event.region, event.account) == (
        "Object Created", "aws.s3", "ca-central-1", "111122223333")
    deleted = S3EventBridgeNotificationEvent(
        from_sample(OBJECT_DELETED, "s3:ObjectRemoved:DeleteMarkerCreated", "DeleteObject", None))
    assert deleted.detail.deletion_type == "Delete Marker Created"
    assert deleted.detail.object.size is None


def test_unversioned_buckets_have_no_version_id_and_deletes_are_permanent() -> None:
    request = RequestFacts("PutObject", "R1", "123456789012")
    created = s3_event("s3:ObjectCreated:Put", bucket="b", region="us-east-1", account="1",
                       obj=ObjectFacts("k.jpg", 10, '"abc"', None), request=request, sequencer="01")
    assert set(created["detail"]["object"]) == {"key", "size", "etag", "sequencer"}
    assert created["detail"]["object"]["etag"] == "abc"  # no quotes, lower-case field name
    deleted = s3_event("s3:ObjectRemoved:Delete", bucket="b", region="us-east-1", account="1",
                       obj=ObjectFacts("k.jpg", 10, '"abc"', None),
                       request=RequestFacts("DeleteObject", "R2", "1"), sequencer="02")
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    assert deleted["detail"]["reason"] == "DeleteObject"
    assert set(deleted["detail"]["object"]) == {"key", "sequencer"}


@pytest.mark.parametrize(("notification", "reason"), sorted(s3events.CREATED_REASONS.items()))
def test_reason_names_the_api(notification: str, reason: str) -> None:
    event = s3_event(notification, bucket="b", region="r", account="1", obj=ObjectFacts("k", 1, "e", None),
                     request=RequestFacts("X", "R", "1"), sequencer="1")
    assert event["detail"]["reason"] == reason


def test_time_is_iso_8601_in_utc() -> None:
    event = s3_event("s3:ObjectCreated:Put", bucket="b", region="r", account="1",
                     obj=ObjectFacts("k", 1, "e", None), request=RequestFacts("PutObject", "R", "1"),
                     sequencer="1")
    parsed = dt.datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - parsed).total_seconds()) < 5


def test_tags_added_only_for_tagging_requests() -> None:
    assert wanted("s3:ObjectTagging:Put", RequestFacts("PutObjectTagging", "R", "1"))
    assert not wanted("s3:ObjectTagging:Put", RequestFacts("PutObject", "R", "1"))
    assert not wanted("s3:ObjectTagging:Put", RequestFacts("CopyObject", "R", "1"))
    assert wanted("s3:ObjectCreated:Put", RequestFacts("PutObject", "R", "1"))
    assert not wanted("s3:ObjectAcl:Put", RequestFacts("PutObjectAcl", "R", "1"))


def test_sequencers_increase() -> None:
    sequencer = Sequencer()
    values = [sequencer.next() for _ in range(1000)]
    assert values == sorted(values) and len(set(values)) == len(values)
    assert all(len(v) == 18 and int(v, 16) > 0 for v in values)


def test_the_sample_event_file_has_the_documented_shape() -> None:
    """events/object-created.json (what `thumbflow execute` and the docs use) has every field."""
    sample = json.loads((ROOT / "events" / "object-created.json").read_text(encoding="utf-8"))

    def shape(node: Any) -> Any:
        return {k: shape(v) for k, v in node.items()} if isinstance(node, dict) else type(node).__name__

    documented = shape(OBJECT_CREATED)
    del documented["detail"]["object"]["version-id"]  # the sample's bucket is unversioned
    assert shape(sample) == documented
