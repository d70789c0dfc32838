"""The on-demand resizer handler on its own: Function URL events in, HTTP answers out.

Runs against a LocalCloud whose rule only watches ``workflow/``, so uploads here
start no executions and the thumbnail bucket holds only what the resizer wrote.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests import images
from tests.reliability import record
from thumbflow.localcloud import LocalCloud
from thumbflow.serve import function_url_event


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    from thumbnailer import ondemand_core

    with LocalCloud(parameters={"KeyPrefix": "workflow/"}) as c:
        ondemand_core._sizes_from_state_machine.cache_clear()
        s3 = c.client("s3")
        s3.put_object(Bucket=c.deployed.source_bucket, Key="pics/land.jpg", Body=images.jpeg(640, 480))
        s3.put_object(Bucket=c.deployed.source_bucket, Key="pics/logo.PNG", Body=_png(300, 300))
        s3.put_object(Bucket=c.deployed.source_bucket, Key="pics/fake.jpg", Body=b"<html>not an image</html>")
        yield c


@pytest.fixture(autouse=True)
def no_configure_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without CONFIGURE_SIZES the handler must read Configure from the state machine itself."""
    monkeypatch.delenv("CONFIGURE_SIZES", raising=False)


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    images.photo(width, height, mode="RGBA").save(buf, "PNG")
    return buf.getvalue()


def call(cloud: LocalCloud, path: str, method: str = "GET") -> dict[str, Any]:
    """Invoke OnDemandFunction as its function URL would, through the local runtime."""
    event = function_url_event(path, method, {"Host": "resizer.example"}, "resizer.example")
    body, error = cloud.runtime.invoke(cloud.deployed.functions["OnDemandFunction"], json.dumps(event))
    assert error is None, body
    return json.loads(body)


def image_of(response: dict[str, Any]) -> Image.Image:
    assert response["isBase64Encoded"] is True
    return Image.open(io.BytesIO(base64.b64decode(response["body"])))


def thumbnails(cloud: LocalCloud) -> set[str]:
    return set(cloud.objects(cloud.deployed.thumbnail_bucket))


def test_allowed_size_is_rendered_stored_and_tagged(cloud: LocalCloud) -> None:
    response = call(cloud, "/pics/land_200x200.jpg")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "image/jpeg"
    assert response["headers"]["X-Thumbnail-Source"] == "rendered"
    im = image_of(response)
    assert (im.format, im.size) == ("JPEG", (200, 150))  # fit "inside" for a parameter-only size
    s3 = cloud.client("s3")
    tags = s3.get_object_tagging(Bucket=cloud.deployed.thumbnail_bucket, Key="pics/land_200x200.jpg")
    assert {t["Key"]: t["Value"] for t in tags["TagSet"]} == {
        "thumbnail": "yes",
        "thumbnail-size": "200x200",
        "source-etag": s3.head_object(Bucket=cloud.deployed.source_bucket, Key="pics/land.jpg")["ETag"]
        .strip('"'),
        "made-by": "on-demand",
    }


def test_second_request_serves_the_stored_thumbnail(cloud: LocalCloud) -> None:
    call(cloud, "/pics/land_640x480.jpg")
    s3 = cloud.client("s3")
    before = s3.head_object(Bucket=cloud.deployed.thumbnail_bucket, Key="pics/land_640x480.jpg")
    again = call(cloud, "/pics/land_640x480.jpg")
    after = s3.head_object(Bucket=cloud.deployed.thumbnail_bucket, Key="pics/land_640x480.jpg")
    assert again["statusCode"] == 200
    assert again["headers"]["X-Thumbnail-Source"] == "stored"
    assert after["LastModified"] == before["LastModified"]


def test_configure_sizes_come_from_the_state_machine_with_their_fit(cloud: LocalCloud) -> None:
    """128x128 is only in Configure (fit cover): allowed, and cropped to the exact box."""
    response = call(cloud, "/pics/land_128x128.jpg")
    assert response["statusCode"] == 200
    assert image_of(response).size == (128, 128)


def test_source_found_under_another_extension_and_case(cloud: LocalCloud) -> None:
    response = call(cloud, "/pics/logo_200x200.webp")
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "image/webp"
    im = image_of(response)
    assert (im.format, im.size) == ("WEBP", (200, 200))


def test_configure_sizes_env_is_accepted(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> None:
    """Local mode passes Configure's sizes as JSON; a size only listed there becomes allowed."""
    assert call(cloud, "/pics/land_77x77.jpg")["statusCode"] == 403
    monkeypatch.setenv("CONFIGURE_SIZES", json.dumps([{"width": 77, "height": 77, "fit": "cover"}]))
    response = call(cloud, "/pics/land_77x77.jpg")
    assert response["statusCode"] == 200
    assert image_of(response).size == (77, 77)


def _refused(cloud: LocalCloud, path: str, status: int) -> dict[str, Any]:
    before = thumbnails(cloud)
    response = call(cloud, path)
    assert response["statusCode"] == status, response
    assert response["headers"]["Content-Type"] == "application/json"
    assert thumbnails(cloud) == before, "a refused request stored something"
    return json.loads(response["body"])


def test_size_not_allowed_is_403_and_names_the_allowed_sizes(cloud: LocalCloud) -> None:
    body = _refused(cloud, "/pics/land_300x300.jpg", 403)
    assert body["error"] == "size-not-allowed"
    assert {"128x128", "200x200", "640x480", "1024x1024"} <= set(body["allowed"])
    assert "200x200" in body["message"]


@pytest.mark.parametrize(
    "path",
    [
        "/pics/land.jpg",  # not a thumbnail name
        "/pics/../pics/land_200x200.jpg",
        "/pics/%2e%2e/land_200x200.jpg",
        "/pics%2Fland_200x200.jpg",
        "/pics%2fland_200x200.jpg",
        "/pics//land_200x200.jpg",
        "/pics/land_0x200.jpg",
        "/pics/land_99999x99999.jpg",
        "/pics/land_200x200.gif",
        "/pics/land_200x200.JPG",
        "/pics/land_200x200.jpeg",
        "/pics/%ff_200x200.jpg",
    ],
)
def test_malformed_paths_are_400(cloud: LocalCloud, path: str) -> None:
    assert _refused(cloud, path, 400)["error"] == "bad-request"


def test_missing_source_is_404(cloud: LocalCloud) -> None:
    assert _refused(cloud, "/pics/nothing_200x200.jpg", 404)["error"] == "source-not-found"


def test_source_that_is_not_an_image_is_422(cloud: LocalCloud) -> None:
    body = _refused(cloud, "/pics/fake_200x200.jpg", 422)
    assert "fake.jpg" in body["message"]


def test_head_answers_without_a_body(cloud: LocalCloud) -> None:
    response = call(cloud, "/pics/land_200x200.jpg", method="HEAD")
    assert response["statusCode"] == 200
    assert response["body"] == ""


def test_too_large_for_a_lambda_response_redirects_to_the_stored_object(cloud: LocalCloud) -> None:
    from thumbnailer import ondemand_core, settings

    response = ondemand_core.answer(
        "/pics/land_1024x1024.jpg", "GET", settings=settings.load(),
        allow=ondemand_core.load_allowlist(), inline_limit=100,
    )
    assert response.status == 302
    location = response.headers["Location"]
    assert cloud.deployed.thumbnail_bucket in location
    assert "pics/land_1024x1024.jpg" in location and "Signature" in location
    assert "pics/land_1024x1024.jpg" in thumbnails(cloud)


def test_bad_on_demand_sizes_are_a_configuration_error() -> None:
    from thumbnailer.errors import ConfigError
    from thumbnailer.ondemand_core import parse_size_list

    assert parse_size_list(" 200x200, 640X480 ,") == {(200, 200), (640, 480)}
    for bad in ("200", "200x", "0x10", "5000x10", "axb"):
        with pytest.raises(ConfigError):
            parse_size_list(bad)


# ----------------------------------------------------------------------------- security
#
# Every S3 request the resizer makes goes through thumbnailer.storage's client; the
# s3_calls fixture records each one (operation, bucket, key), so a test can prove what
# was read and written, not only what was answered.

S3Call = tuple[str, str, str]  # (operation, bucket, key)
WRITES = ("put_object", "copy_object", "delete_object", "delete_objects", "put_object_tagging",
          "put_object_acl", "restore_object", "create_multipart_upload")


@pytest.fixture
def s3_calls(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch) -> list[S3Call]:
    from thumbnailer import storage

    real = storage.s3()
    calls: list[S3Call] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            attr = getattr(real, name)
            if name.startswith("_") or not callable(attr):
                return attr

            def record_call(*args: Any, **kwargs: Any) -> Any:
                params = kwargs.get("Params", kwargs)  # generate_presigned_url nests them
                calls.append((name, str(params.get("Bucket", "")), str(params.get("Key", ""))))
                return attr(*args, **kwargs)

            return record_call

    monkeypatch.setattr(storage, "s3", Recording)
    return calls


def _allowed(cloud: LocalCloud) -> list[str]:
    from thumbnailer import ondemand_core

    return ondemand_core.load_allowlist().labels()


@pytest.mark.parametrize(
    "size", ["300x300", "201x200", "200x201", "480x640", "129x128", "1x1", "4096x4096", "2048x1536"]
)
def test_only_allowlisted_sizes_render(cloud: LocalCloud, s3_calls: list[S3Call], size: str) -> None:
    """A size outside the allowlist is refused before any S3 request: nothing read, nothing stored."""
    assert size not in _allowed(cloud)
    body = _refused(cloud, f"/pics/land_{size}.jpg", 403)
    assert body["error"] == "size-not-allowed"
    assert s3_calls == []
    record("Security", f"on-demand size {size} (not allowlisted)", "403, no S3 request, nothing stored",
           "403 size-not-allowed, 0 S3 requests")


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_only_get_and_head(cloud: LocalCloud, s3_calls: list[S3Call], method: str) -> None:
    before = thumbnails(cloud)
    response = call(cloud, "/pics/land_200x200.jpg", method)
    assert response["statusCode"] == 405
    assert s3_calls == [] and thumbnails(cloud) == before
    record("Security", f"on-demand {method}", "405, no S3 request", "405, 0 S3 requests")


# (raw path as the function URL delivers it, still percent-encoded; expected status)
HOSTILE_PATHS: list[tuple[str, str, int]] = [
    ("dot-dot segment", "/pics/../pics/land_200x200.jpg", 400),
    ("dot-dot from the root", "/../land_200x200.jpg", 400),
    ("dot segment", "/pics/./land_200x200.jpg", 400),
    ("encoded dot-dot", "/pics/%2e%2e/land_200x200.jpg", 400),
    ("encoded dot-dot, upper case", "/pics/%2E%2E/land_200x200.jpg", 400),
    ("half-encoded dot-dot", "/pics/.%2e/land_200x200.jpg", 400),
    ("encoded dot-dots to /etc", "/%2e%2e/%2e%2e/etc/passwd_200x200.jpg", 400),
    ("encoded slash", "/pics%2Fland_200x200.jpg", 400),
    ("encoded slash and dot-dot", "/pics%2f..%2fland_200x200.jpg", 400),
    ("encoded backslash", "/pics%5Cland_200x200.jpg", 400),
    ("backslash", "/pics\\land_200x200.jpg", 400),
    ("backslash dot-dots", "/..\\..\\land_200x200.jpg", 400),
    ("absolute path (empty segment)", "//etc/land_200x200.jpg", 400),
    ("trailing slash", "/pics/land_200x200.jpg/", 400),
    ("no leading slash", "pics/land_200x200.jpg", 400),
    ("NUL in the name", "/pics/land%00_200x200.jpg", 400),
    ("NUL before a second extension", "/pics/land_200x200.jpg%00.png", 400),
    ("CR LF (header injection)", "/pics/land%0d%0aSet-Cookie:x_200x200.jpg", 400),
    ("overlong UTF-8 dots", "/pics/%c0%ae%c0%ae/land_200x200.jpg", 400),
    ("encoded UTF-16 surrogate", "/pics/%ed%a0%80_200x200.jpg", 400),
    ("lone surrogate in rawPath", "/pics/\udc80_200x200.jpg", 400),
    ("key over 1024 bytes (ASCII)", "/" + "a" * 1020 + "_200x200.jpg", 400),
    ("key over 1024 bytes, under 1024 chars", "/" + "%C3%A9" * 510 + "_200x200.jpg", 400),
    ("size with a leading zero", "/pics/land_0200x200.jpg", 400),
    ("upper-case extension", "/pics/land_200x200.JPG", 400),
    ("second extension", "/pics/land_200x200.jpg.png", 400),
    ("extension not rendered", "/pics/land_200x200.svg", 400),
    # Decoded exactly once: these name literal keys inside SourceBucket, which do not exist.
    ("double-encoded dot-dot", "/pics/%252e%252e/land_200x200.jpg", 404),
    ("double-encoded slash", "/pics%252Fland_200x200.jpg", 404),
    ("another bucket's name as a prefix", "/decoy-bucket/pics/land_200x200.jpg", 404),
    ("an S3 ARN as the key", "/arn:aws:s3:::decoy-bucket/land_200x200.jpg", 404),
]


@pytest.mark.parametrize(("case", "path", "status"), HOSTILE_PATHS, ids=[c for c, _, _ in HOSTILE_PATHS])
def test_no_path_escape(cloud: LocalCloud, s3_calls: list[S3Call], case: str, path: str, status: int) -> None:
    """No path reads outside SourceBucket's candidates for the name, and none writes anything."""
    from thumbnailer.naming import key_stem

    body = _refused(cloud, path, status)
    source = cloud.deployed.source_bucket
    assert [c for c in s3_calls if c[0] in WRITES] == []
    if status == 400:
        assert body["error"] == "bad-request"
        assert s3_calls == []  # refused before any request
        observed = "400 bad-request, 0 S3 requests"
    else:
        assert body["error"] == "source-not-found"
        stem = path[1:].replace("%25", "%").rsplit("_", 1)[0]  # the key, decoded once, minus _WxH.jpg
        assert s3_calls and all(op == "head_object" and bucket == source for op, bucket, _ in s3_calls)
        assert {key_stem(key) for _, _, key in s3_calls} == {stem}
        observed = f"404 source-not-found, only HEAD {stem}.* in SourceBucket"
    record("Security", f"on-demand path: {case}",
           f"{status}, nothing read outside SourceBucket, nothing written", observed)


def test_bucket_comes_from_configuration_not_the_request(
    cloud: LocalCloud, s3_calls: list[S3Call]
) -> None:
    """Query string, Host and headers naming another bucket change nothing: SOURCE_BUCKET is read."""
    s3 = cloud.client("s3")
    s3.create_bucket(Bucket="decoy-bucket")
    s3.put_object(Bucket="decoy-bucket", Key="pics/twin.jpg", Body=images.jpeg(100, 400))
    s3.put_object(Bucket=cloud.deployed.source_bucket, Key="pics/twin.jpg", Body=images.jpeg(640, 480))
    event = function_url_event("/pics/twin_200x200.jpg?bucket=decoy-bucket&Bucket=decoy-bucket",
                               "GET", {"Host": "decoy-bucket.s3.amazonaws.com",
                                       "X-Amz-Bucket": "decoy-bucket",
                                       "X-Forwarded-Host": "decoy-bucket.s3.amazonaws.com"},
                               "decoy-bucket.s3.amazonaws.com")
    event["queryStringParameters"] = {"bucket": "decoy-bucket", "Bucket": "decoy-bucket"}
    body, error = cloud.runtime.invoke(cloud.deployed.functions["OnDemandFunction"], json.dumps(event))
    assert error is None, body
    response = json.loads(body)
    assert response["statusCode"] == 200
    assert image_of(response).size == (200, 150)  # the 640x480 source, not the decoy's 100x400
    buckets = {bucket for _, bucket, _ in s3_calls}
    assert buckets == {cloud.deployed.source_bucket, cloud.deployed.thumbnail_bucket}
    assert "decoy-bucket" not in {k for _, _, k in s3_calls}
    record("Security", "on-demand: another bucket named in query, Host and headers",
           "ignored: only SourceBucket read, only ThumbnailBucket written",
           "200 from SourceBucket's image; S3 requests to the two configured buckets only")


# (name, bytes, displayed width, displayed height): bigger, smaller, extreme and rotated sources
BOUND_SOURCES: list[tuple[str, bytes, int, int]] = [
    ("wide", images.jpeg(3000, 200), 3000, 200),
    ("tall", images.jpeg(200, 3000), 200, 3000),
    ("big", images.jpeg(2400, 1800), 2400, 1800),
    ("tiny", images.jpeg(50, 40), 50, 40),
    ("dot", images.jpeg(1, 1), 1, 1),
    ("rotated", images.jpeg(1000, 200, orientation=6), 200, 1000),  # EXIF 6: displayed 200x1000
]


@pytest.mark.parametrize(
    ("name", "data", "src_w", "src_h"), BOUND_SOURCES, ids=[b[0] for b in BOUND_SOURCES]
)
def test_output_is_bounded_by_the_box_and_never_upscaled(
    cloud: LocalCloud, s3_calls: list[S3Call], name: str, data: bytes, src_w: int, src_h: int
) -> None:
    """Every allowed size, from sources bigger and smaller than it: never bigger than box or source."""
    from thumbnailer import ondemand_core

    allow = ondemand_core.load_allowlist()
    key = f"bounds/{name}.jpg"
    cloud.client("s3").put_object(Bucket=cloud.deployed.source_bucket, Key=key, Body=data)
    seen = []
    for label in allow.labels():
        box_w, box_h = map(int, label.split("x"))
        spec = allow.spec_for(box_w, box_h, "jpeg")
        assert spec is not None
        s3_calls.clear()
        thumb = f"bounds/{name}_{label}.jpg"
        response = call(cloud, "/" + thumb)
        assert response["statusCode"] == 200, response
        w, h = image_of(response).size
        assert 1 <= w <= min(box_w, src_w) and 1 <= h <= min(box_h, src_h), (label, (w, h))
        if spec.fit == "inside":  # the whole image, aspect kept, scaled by at most 1
            scale = min(box_w / src_w, box_h / src_h, 1.0)
            assert abs(w - src_w * scale) <= 1 and abs(h - src_h * scale) <= 1, (label, (w, h))
        writes = [c for c in s3_calls if c[0] in WRITES]
        assert writes == [("put_object", cloud.deployed.thumbnail_bucket, thumb)]
        source_ops = {op for op, b, _ in s3_calls if b == cloud.deployed.source_bucket}
        assert source_ops <= {"head_object", "get_object"}
        assert {b for _, b, _ in s3_calls} <= {cloud.deployed.source_bucket, cloud.deployed.thumbnail_bucket}
        seen.append(f"{label}->{w}x{h}")
    record("Security", f"on-demand output bounds: {name} source {src_w}x{src_h}",
           "each allowed box: output <= box and <= source (no upscaling); one put, at the requested key",
           ", ".join(seen))
