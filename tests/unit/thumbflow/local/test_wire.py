"""The wire: every request recorded with its caller, faults and S3's own rules answered on it.

A real botocore client sends through the wire here (its ``before-send`` event hands the
request to ``Wire.serve``), with a stand-in answer instead of an emulator.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError

from thumbflow.local.wire import (
    DRIVER,
    UNATTRIBUTED,
    RawBody,
    Request,
    ServiceFault,
    Wire,
    WireHook,
    access_key_of,
    bucket_and_key,
)

PUT_OK = {"etag": '"0cc175b9c0f1b6a831c399e269772661"'}


def ok(event_name: str, request: Any) -> AWSResponse:
    return AWSResponse(request.url, 200, dict(PUT_OK), RawBody(b""))


def s3_through(wire: Wire, answer: Callable[[str, Any], AWSResponse | None] = ok,
               key_id: str = "DRIVERKEY") -> Any:
    session = boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key="x",
                                    region_name="us-east-1")
    client = session.client("s3", config=boto3.session.Config(retries={"total_max_attempts": 1}))

    def send(request: Any, event_name: str, **kwargs: Any) -> Any:
        return wire.serve(event_name, request, wire.caller_of(request.headers), answer)

    client.meta.events.register("before-send", send)
    return client


@pytest.fixture
def wire() -> Iterator[Wire]:
    yield Wire(callers={"DRIVERKEY": DRIVER})


def test_requests_are_recorded_with_their_caller_bucket_and_key(wire: Wire) -> None:
    s3_through(wire).put_object(Bucket="photos", Key="a b/c.jpg", Body=b"a")
    s3_through(wire, key_id="SOMEONE").put_object(Bucket="photos", Key="d.jpg", Body=b"a")
    first, second = wire.snapshot()
    assert (first.service, first.operation, first.caller, first.bucket, first.key) == (
        "s3", "PutObject", DRIVER, "photos", "a b/c.jpg")
    assert second.caller == UNATTRIBUTED
    assert wire.counts(DRIVER) == {("s3", "PutObject"): 1}


def test_an_injected_fault_is_what_the_caller_sees(wire: Wire) -> None:
    wire.faults.append(ServiceFault("s3", "PutObject", code="SlowDown", status=503, times=1))
    client = s3_through(wire)
    with pytest.raises(ClientError) as err:
        client.put_object(Bucket="photos", Key="x.jpg", Body=b"a")
    assert err.value.response["Error"]["Code"] == "SlowDown"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    client.put_object(Bucket="photos", Key="x.jpg", Body=b"a")  # times=1: fired once
    assert [r.failed for r in wire.snapshot()] == [True, False]


def test_keys_over_1024_bytes_are_refused_as_s3_refuses_them(wire: Wire) -> None:
    client = s3_through(wire)
    client.put_object(Bucket="b", Key="é" * 512, Body=b"a")  # exactly 1024 bytes of UTF-8
    with pytest.raises(ClientError) as err:
        client.put_object(Bucket="b", Key="é" * 512 + "x", Body=b"a")
    assert err.value.response["Error"]["Code"] == "KeyTooLongError"


class AtOnce:
    """An answer that takes 50 ms and counts how many requests it was serving at once."""

    def __init__(self, answer: Callable[[str, Any], AWSResponse]) -> None:
        self.answer, self.running, self.most = answer, 0, 0
        self.lock = threading.Lock()

    def __call__(self, event_name: str, request: Any) -> AWSResponse:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.05)
        with self.lock:
            self.running -= 1
        return self.answer(event_name, request)

    def most_of(self, call: Callable[..., Any], calls: list[dict[str, Any]]) -> int:
        """The most requests served at once when ``call`` is made with each of ``calls`` together."""
        self.most = 0
        threads = [threading.Thread(target=call, kwargs=kwargs) for kwargs in calls]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self.most


def test_conditional_puts_are_decided_one_at_a_time(wire: Wire) -> None:
    slow = AtOnce(ok)
    client = s3_through(wire, slow)

    def puts(**extra: Any) -> list[dict[str, Any]]:
        return [{"Bucket": "b", "Key": f"k{i}", "Body": b"a", **extra} for i in range(4)]

    assert slow.most_of(client.put_object, puts(IfNoneMatch="*")) == 1
    assert slow.most_of(client.put_object, puts()) > 1


def test_dynamodb_item_writes_are_decided_one_at_a_time_and_reads_are_not(wire: Wire) -> None:
    """moto checks a ConditionExpression, then writes: racing claims (PutItem with
    attribute_not_exists on one stem) could both win unless the wire serves one at a time."""
    slow = AtOnce(lambda event_name, request: AWSResponse(
        request.url, 200, {"content-type": "application/x-amz-json-1.0"}, RawBody(b"{}")))
    session = boto3.session.Session(aws_access_key_id="DRIVERKEY", aws_secret_access_key="x",
                                    region_name="us-east-1")
    client = session.client("dynamodb", config=boto3.session.Config(retries={"total_max_attempts": 1}))
    client.meta.events.register("before-send", lambda request, event_name, **kw: wire.serve(
        event_name, request, wire.caller_of(request.headers), slow))
    key = {"stem": {"S": "photos/cat"}}
    claim = {"TableName": "t", "Item": {**key, "source": {"S": "photos/cat.jpg"}},
             "ConditionExpression": "attribute_not_exists(stem)"}
    assert slow.most_of(client.put_item, [claim] * 4) == 1
    assert slow.most_of(client.delete_item, [{"TableName": "t", "Key": key}] * 4) == 1
    assert slow.most_of(client.get_item, [{"TableName": "t", "Key": key, "ConsistentRead": True}] * 4) > 1
    assert wire.counts(DRIVER)[("dynamodb", "PutItem")] == 4


def test_hooks_run_before_and_after_serving_and_their_errors_surface(wire: Wire) -> None:
    order: list[str] = []

    def answer(event_name: str, request: Any) -> AWSResponse:
        current = wire.current()
        assert current is not None and current.key == "k.jpg"  # what S3 events read
        order.append("served")
        return ok(event_name, request)

    client = s3_through(wire, answer)
    before = WireHook("s3", "PutObject", lambda r: order.append(f"before {r.key}"), caller=DRIVER)
    after = WireHook("s3", None, lambda r: order.append(f"after {r.operation}"), after=True)
    other = WireHook("s3", "PutObject", lambda r: order.append("wrong caller"), caller="ResizeFunction")
    with wire.hooked(before, after, other):
        response = client.put_object(Bucket="b", Key="k.jpg", Body=b"a")
    assert order == ["before k.jpg", "served", "after PutObject"]
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"] == wire.snapshot()[0].request_id
    assert wire.current() is None

    def boom(request: Request) -> None:
        raise ValueError("hook failed")

    with pytest.raises(ValueError, match="hook failed"), wire.hooked(WireHook("s3", "PutObject", boom)):
        client.put_object(Bucket="b", Key="k.jpg", Body=b"a")
    assert wire.hooks == []


@pytest.mark.parametrize(("url", "expected"), [
    ("https://photos.s3.amazonaws.com/a/b%20c.jpg", ("photos", "a/b c.jpg")),
    ("https://photos.s3.us-east-1.amazonaws.com/k?tagging", ("photos", "k")),
    ("https://s3.amazonaws.com/photos/a/b.jpg", ("photos", "a/b.jpg")),
    ("http://localhost:5000/photos/k", ("photos", "k")),
])
def test_bucket_and_key_from_either_url_style(url: str, expected: tuple[str, str]) -> None:
    assert bucket_and_key("s3", url) == expected
    assert bucket_and_key("sns", url) == ("", "")


def test_access_key_from_the_signature() -> None:
    auth = ("AWS4-HMAC-SHA256 Credential=LOCALSTATES/20260101/us-east-1/s3/aws4_request, "
            "SignedHeaders=host, Signature=abc")
    assert access_key_of({"Authorization": auth}) == "LOCALSTATES"
    assert access_key_of({"Authorization": auth.encode()}) == "LOCALSTATES"
    assert access_key_of({}) == ""
