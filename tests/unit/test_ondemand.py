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
