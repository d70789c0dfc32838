"""EventBridge in local mode: S3's events as S3 documents them, rules as EventBridge matches them,
and a delivery that fails retried, then dead-lettered, as EventBridge does.

moto builds S3's events itself (fixed ids, ``eTag``, epoch times, an extra "Object Tags
Added" after a PutObject with tags) and its matcher differs from EventBridge's; local
mode builds the documented events and matches with EventBridge's semantics.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

from tests import images
from tests.eventpatterns import CASES, INVALID, MOTO_DIFFERS
from tests.functional.conftest import TIME_SCALE, Lines
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.wire import EVENTS, ServiceFault


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    with LocalCloud(time_scale=TIME_SCALE, log=Lines()) as c:
        yield c


@pytest.fixture(scope="module")
def watched(cloud: LocalCloud) -> str:
    """An SQS queue behind a second rule that takes every S3 event of the source bucket."""
    sqs, events = cloud.client("sqs"), cloud.client("events")
    url = sqs.create_queue(QueueName="s3-events-watch")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    pattern = {"source": ["aws.s3"], "detail": {"bucket": {"name": [cloud.deployed.source_bucket]}}}
    events.put_rule(Name="watch-everything", EventPattern=json.dumps(pattern), State="ENABLED")
    events.put_targets(Rule="watch-everything", Targets=[{"Id": "queue", "Arn": arn}])
    return url


def drain(cloud: LocalCloud, url: str) -> list[dict[str, Any]]:
    sqs, found = cloud.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        found.extend(json.loads(m["Body"]) for m in messages)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)])
    return found


def test_the_rule_delivers_the_documented_object_created_event(cloud: LocalCloud) -> None:
    body = images.jpeg(200, 150)
    before = len(cloud.started)
    response = cloud.client("s3").put_object(Bucket=cloud.deployed.source_bucket, Key="eb/one.jpg", Body=body)
    cloud.upload("eb/two.jpg", body)
    (arn, event), (_, second) = cloud.started[before:]
    parsed = S3EventBridgeNotificationEvent(event)
    assert (parsed.detail_type, parsed.source, parsed.account, parsed.region) == (
        "Object Created", "aws.s3", "123456789012", "us-east-1")
    assert parsed.resources == [f"arn:aws:s3:::{cloud.deployed.source_bucket}"]
    obj = parsed.detail.object
    assert (obj.key, obj.size, obj.etag) == ("eb/one.jpg", len(body), hashlib.md5(body).hexdigest())
    assert response["ETag"].strip('"') == obj.etag
    assert "version-id" not in event["detail"]["object"]  # the bucket is not versioned
    assert parsed.detail.reason == "PutObject"
    assert parsed.detail.request_id == response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    assert parsed.detail.requester == "123456789012" and parsed.detail.source_ip_address
    assert uuid.UUID(event["id"]).version == 4 and event["id"] != second["id"]
    assert obj.sequencer < S3EventBridgeNotificationEvent(second).detail.object.sequencer
    assert time.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert json.loads(cloud.describe(arn)["input"]) == event  # the execution's input is the event
    cloud.wait_all()


def test_tags_with_an_upload_are_one_event_and_deletes_are_object_deleted(cloud: LocalCloud,
                                                                          watched: str) -> None:
    s3, bucket = cloud.client("s3"), cloud.deployed.source_bucket
    drain(cloud, watched)
    s3.put_object(Bucket=bucket, Key="eb/tagged.txt", Body=b"x", Tagging="a=b")
    s3.put_object_tagging(Bucket=bucket, Key="eb/tagged.txt",
                          Tagging={"TagSet": [{"Key": "c", "Value": "d"}]})
    s3.delete_object(Bucket=bucket, Key="eb/tagged.txt")
    seen = drain(cloud, watched)
    assert [e["detail-type"] for e in seen] == ["Object Created", "Object Tags Added", "Object Deleted"]
    created, tagged, deleted = seen
    assert created["detail"]["reason"] == "PutObject"
    assert set(deleted["detail"]["object"]) == {"key", "sequencer"}
    assert (deleted["detail"]["reason"], deleted["detail"]["deletion-type"]) == ("DeleteObject",
                                                                              "Permanently Deleted")
    assert S3EventBridgeNotificationEvent(deleted).detail.deletion_type == "Permanently Deleted"
    assert tagged["detail"]["object"]["key"] == "eb/tagged.txt"
    cloud.wait_all()


def test_moto_matcher_against_the_documented_examples() -> None:
    """Where moto's matcher agrees with EventBridge, and the differences local mode works around."""
    from moto.events.models import EventPattern as MotoPattern

    agrees = [MotoPattern.load(json.dumps(p)).matches_event(e) is m for _, p, e, m in CASES]
    assert all(agrees), [c[0] for c, ok in zip(CASES, agrees, strict=True) if not ok]
    for name, pattern, event, matches in MOTO_DIFFERS:
        assert MotoPattern.load(json.dumps(pattern)).matches_event(event) is not matches, name
    accepted = [name for name, pattern in INVALID if _moto_accepts(pattern)]
    assert "unknown operator" in accepted  # and matches every event with it:
    assert MotoPattern.load(json.dumps({"key": [{"sufix": ".jpg"}]})).matches_event({"key": "a.png"})


def _moto_accepts(pattern: dict[str, Any]) -> bool:
    from moto.events.models import EventPattern as MotoPattern

    try:
        MotoPattern.load(json.dumps(pattern))
    except Exception:
        return False
    return True


def dead_letters(cloud: LocalCloud) -> list[dict[str, Any]]:
    sqs, url = cloud.client("sqs"), cloud.deployed.dead_letter_queue_url
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])
    for message in got.get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return got.get("Messages", [])


def test_a_start_that_cannot_succeed_goes_to_the_dead_letter_queue_at_once(cloud: LocalCloud) -> None:
    fault = ServiceFault("sfn", "StartExecution", code="StateMachineDoesNotExist", status=400,
                         message="State Machine Does Not Exist (injected)", when=lambda r: r.caller == EVENTS)
    before = len(cloud.started)
    with cloud.injecting(fault):
        cloud.upload("eb/lost.jpg", images.jpeg(64, 64))
    assert cloud.started[before:] == [] and fault.fired == 1
    (message,) = dead_letters(cloud)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {"RULE_ARN": cloud.deployed.rule_arn, "TARGET_ARN": cloud.deployed.state_machine_arn,
                          "ERROR_CODE": "StateMachineDoesNotExist",
                          "ERROR_MESSAGE": "State Machine Does Not Exist (injected)", "RETRY_ATTEMPTS": "0"}
    event = json.loads(message["Body"])
    assert event["detail-type"] == "Object Created" and event["detail"]["object"]["key"] == "eb/lost.jpg"


def test_a_throttled_start_is_retried_until_it_succeeds(cloud: LocalCloud) -> None:
    fault = ServiceFault("sfn", "StartExecution", code="ThrottlingException", status=400, times=3,
                         message="Rate exceeded (injected)", when=lambda r: r.caller == EVENTS)
    before = len(cloud.started)
    with cloud.injecting(fault):
        cloud.upload("eb/late.jpg", images.jpeg(64, 64))
        deadline = time.monotonic() + 30
        while not cloud.started[before:] and time.monotonic() < deadline:
            time.sleep(0.01)
    (arn, event) = cloud.started[before]
    assert fault.fired == 3 and event["detail"]["object"]["key"] == "eb/late.jpg"
    assert cloud.wait(arn)["status"] == "SUCCEEDED"
    assert dead_letters(cloud) == []


def test_deleting_a_key_that_holds_nothing_still_sends_object_deleted(cloud: LocalCloud,
                                                                      watched: str) -> None:
    """S3 answers 204 and sends the event for an unversioned bucket; moto sends nothing."""
    drain(cloud, watched)
    cloud.client("s3").delete_object(Bucket=cloud.deployed.source_bucket, Key="eb/never-there.jpg")
    (deleted,) = drain(cloud, watched)
    assert deleted["detail-type"] == "Object Deleted"
    assert deleted["detail"]["object"]["key"] == "eb/never-there.jpg"
    assert deleted["detail"]["deletion-type"] == "Permanently Deleted"
    cloud.wait_all()
