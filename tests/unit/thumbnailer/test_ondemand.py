"""The on-demand handler: function URL events (payload 2.0) in, function URL responses out."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

import pytest
from PIL import Image
from thumbnailer.ondemand import handler

from tests import images
from tests.reliability import record
from tests.unit.conftest import (
    CLAIMS,
    REPO,
    SOURCE,
    THUMBS,
    Context,
    CountingStubber,
    S3Stub,
    described,
    emitted_metrics,
)

DEFINITION = (REPO / "statemachine" / "thumbnails.asl.json").read_text()
LAND = images.jpeg(640, 480)


@pytest.fixture
def arn(env: Callable[..., Any], sfn: CountingStubber) -> str:
    """The deployed workflow, described once (a fresh ARN per test: the allowlist caches per ARN)."""
    arn = described(sfn, DEFINITION)
    env(STATE_MACHINE_ARN=arn, ON_DEMAND_SIZES="200x200,640x480")
    return arn


def url_event(path: str, method: str = "GET", query: str = "", headers: dict[str, str] | None = None
              ) -> dict[str, Any]:
    """A function URL request as Lambda documents payload format 2.0."""
    host = "abcdefghij.lambda-url.us-east-1.on.aws"
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
        "headers": {"host": host, **(headers or {})},
        **({"queryStringParameters": {k: v[0] for k, v in parse_qs(query).items()}} if query else {}),
        "requestContext": {
            "accountId": "anonymous", "apiId": "abcdefghij", "domainName": host, "domainPrefix": "abcdefghij",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "198.51.100.1",
                     "userAgent": "unit"},
            "requestId": "req-1", "routeKey": "$default", "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000", "timeEpoch": 1767225600000,
        },
        "isBase64Encoded": False,
    }


def renders(s3: S3Stub, key: str, source_key: str = "pics/land.jpg", data: bytes = LAND) -> None:
    """A miss at ``key``: the unclaimed stem's source found, its header judged, the render lease
    taken, rendered from pinned bytes, its names claimed, stored, served, the lease dropped."""
    stem = source_key.rsplit(".", 1)[0]
    s3.claim(stem)
    s3.head(SOURCE, source_key, etag="e1", size=len(data))
    s3.error("get_object", "NoSuchKey", 404, {"Bucket": THUMBS, "Key": key})
    s3.header(SOURCE, source_key, data, etag="e1")
    s3.lease(THUMBS, key)
    s3.error("get_object", "NoSuchKey", 404, {"Bucket": THUMBS, "Key": key})
    s3.get(SOURCE, source_key, data, etag="e1", IfMatch='"e1"')
    s3.head(SOURCE, source_key, etag="e1", size=len(data), IfMatch='"e1"')
    s3.first_claim(stem, source_key)
    s3.put(etag="t1")
    s3.get(THUMBS, key, b"\xff\xd8served", etag="t1")
    s3.lease_dropped(THUMBS, key)


def test_a_rendered_thumbnail_comes_back_base64_encoded(
    arn: str, s3: S3Stub, context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    renders(s3, "pics/land_200x200.jpg")
    out = handler(url_event("/pics/land_200x200.jpg"), context)
    assert (out["statusCode"], out["isBase64Encoded"]) == (200, True)
    assert base64.b64decode(out["body"]) == b"\xff\xd8served"
    assert out["headers"]["Content-Type"] == "image/jpeg"
    assert out["headers"]["X-Thumbnail-Source"] == "rendered"
    assert emitted_metrics(capsys.readouterr().out) == {"ThumbnailsWritten": 1, "OnDemandServed": 1}


def test_configure_sizes_come_from_the_state_machine_with_their_fit(
    arn: str, s3: S3Stub, context: Context
) -> None:
    """128x128 is only in Configure (fit cover): allowed, and cropped to the exact box."""
    renders(s3, "pics/land_128x128.jpg")
    assert handler(url_event("/pics/land_128x128.jpg"), context)["statusCode"] == 200
    im = Image.open(io.BytesIO(s3.made("PutObject")[-1]["Body"]))  # the thumbnail: written last
    assert im.size == (128, 128)


def test_head_answers_without_a_body(arn: str, s3: S3Stub, context: Context) -> None:
    renders(s3, "pics/land_200x200.jpg")
    assert handler(url_event("/pics/land_200x200.jpg"), context)["statusCode"] == 200
    stored = s3.made("PutObject")[-1]["Metadata"]  # what the GET's render stored
    s3.claim("pics/land", "pics/land.jpg")
    s3.head(SOURCE, "pics/land.jpg", etag="e1", size=len(LAND))
    s3.get(THUMBS, "pics/land_200x200.jpg", b"\xff\xd8served", etag="t1", metadata=stored)
    out = handler(url_event("/pics/land_200x200.jpg", "HEAD"), context)
    assert (out["statusCode"], out["body"]) == (200, "")
    assert out["headers"]["Content-Type"] == "image/jpeg"


def test_head_of_a_miss_is_404_and_renders_nothing(arn: str, s3: S3Stub, context: Context) -> None:
    s3.claim("pics/land")
    s3.head(SOURCE, "pics/land.jpg", etag="e1", size=len(LAND))
    s3.error("get_object", "NoSuchKey", 404, {"Bucket": THUMBS, "Key": "pics/land_200x200.jpg"})
    out = handler(url_event("/pics/land_200x200.jpg", "HEAD"), context)
    assert (out["statusCode"], out["body"]) == (404, "")
    assert not [c for c in s3.calls if c.operation.startswith(("Put", "Delete"))]


def test_a_refusal_is_a_json_body(arn: str, s3: S3Stub, context: Context,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = handler(url_event("/pics/land_300x300.jpg"), context)
    assert (out["statusCode"], out["isBase64Encoded"]) == (403, False)
    body = json.loads(out["body"])
    assert body["error"] == "size-not-allowed"
    assert {"128x128", "200x200", "640x480", "1024x1024"} <= set(body["allowed"])
    assert emitted_metrics(capsys.readouterr().out) == {"OnDemandRefused": 1}


@pytest.mark.filterwarnings("ignore:No application metrics")
@pytest.mark.parametrize(
    "event",
    [{}, {"rawPath": "/pics/land_200x200.jpg"}, {"requestContext": {}}, {"detail-type": "Object Created"}],
    ids=["empty", "no-context", "no-path", "eventbridge"],
)
def test_an_event_that_is_not_a_function_url_request_is_400(
    event: dict[str, Any], env: Callable[..., Any], s3: S3Stub, context: Context
) -> None:
    env()
    out = handler(event, context)
    assert out["statusCode"] == 400
    assert json.loads(out["body"])["error"] == "bad-request"
    assert s3.calls == []


def test_anything_unexpected_is_a_500_not_an_unhandled_error(
    monkeypatch: pytest.MonkeyPatch, env: Callable[..., Any], s3: S3Stub, context: Context,
    capsys: pytest.CaptureFixture[str],
) -> None:
    env(ON_DEMAND_SIZES="not-a-size")  # a deployment error the handler meets at request time
    out = handler(url_event("/pics/land_200x200.jpg"), context)
    assert out["statusCode"] == 500
    assert json.loads(out["body"]) == {"error": "internal", "message": "see the function log"}
    assert "not-a-size" not in out["body"]  # no internals leak to the caller
    assert emitted_metrics(capsys.readouterr().out) == {"OnDemandErrors": 1, "OnDemandRefused": 1}


def test_the_bucket_comes_from_configuration_not_the_request(arn: str, s3: S3Stub, context: Context) -> None:
    """Query string, Host and headers naming another bucket change nothing: SOURCE_BUCKET is read."""
    renders(s3, "pics/twin_200x200.jpg", "pics/twin.jpg")
    event = url_event("/pics/twin_200x200.jpg", query="bucket=decoy-bucket&Bucket=decoy-bucket",
                      headers={"host": "decoy-bucket.s3.amazonaws.com", "x-amz-bucket": "decoy-bucket",
                               "x-forwarded-host": "decoy-bucket.s3.amazonaws.com"})
    status = handler(event, context)["statusCode"]
    assert status == 200
    s3_calls, claims = s3.of("s3"), s3.of("dynamodb")
    assert {c.params["Bucket"] for c in s3_calls} == {SOURCE, THUMBS}
    assert all("decoy" not in c.params["Key"] for c in s3_calls)
    assert {c.params["TableName"] for c in claims} == {CLAIMS}
    assert all("decoy" not in str(c.params) for c in claims)
    role = {SOURCE: "SourceBucket", THUMBS: "ThumbnailBucket"}  # how the template names them

    def buckets(writes: bool) -> str:
        return ", ".join(sorted({role.get(c.params["Bucket"], c.params["Bucket"]) for c in s3_calls
                                 if c.operation.startswith("Put") == writes})) or "none"

    record("Security", "on-demand: another bucket named in query, Host and headers",
           "ignored: only SourceBucket read, only ThumbnailBucket written",
           f"{status}; read {buckets(False)}; written {buckets(True)}; "
           f"keys naming the decoy: {sum('decoy' in c.params['Key'] for c in s3_calls)}")
