"""`thumbflow serve` over real HTTP: hit, miss -> 302 -> resizer, and every refusal.

Redirects are not followed, so each 302 is observed and followed by hand.
"""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests import images
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud
from thumbflow.serve import ThumbnailServer, serving

from .conftest import output, run_upload


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) without following redirects; HTTP errors are answers too."""
    try:
        with _OPENER.open(url, timeout=30) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


@pytest.fixture(scope="module")
def server(cloud: LocalCloud) -> Iterator[ThumbnailServer]:
    _, desc = run_upload(cloud, "shots/cat.jpg", images.jpeg(640, 480))
    assert desc["status"] == "SUCCEEDED", output(desc)
    _, desc = run_upload(cloud, "shots/fake.jpg", b"GIF89a but not really an image")
    assert desc["status"] == "FAILED"
    with serving(cloud, 0, background=True) as s:
        yield s


def stats(server: ThumbnailServer) -> dict[str, int]:
    status, _, body = fetch(server.url + "stats")
    assert status == 200
    return json.loads(body)


def stored(cloud: LocalCloud) -> set[str]:
    return set(cloud.objects(cloud.deployed.thumbnail_bucket))


def test_health(server: ThumbnailServer) -> None:
    assert fetch(server.url + "healthz")[:1] == (200,)


def test_miss_redirects_to_the_resizer_which_renders_and_stores(
    server: ThumbnailServer, cloud: LocalCloud
) -> None:
    before = stats(server)
    status, headers, _ = fetch(server.url + "t/shots/cat_200x200.jpg")
    assert status == 302
    assert headers["Location"] == "/resize/shots/cat_200x200.jpg"

    status, headers, body = fetch(server.url + headers["Location"].lstrip("/"))
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg"
    im = Image.open(io.BytesIO(body))
    assert (im.format, im.size) == ("JPEG", (200, 150))
    assert "shots/cat_200x200.jpg" in stored(cloud)
    after = stats(server)
    assert after["renders"] == before["renders"] + 1
    assert after["misses"] == before["misses"] + 1

    # The second request is a plain hit: same bytes, cacheable, no resizer involved.
    status, headers, again = fetch(server.url + "t/shots/cat_200x200.jpg")
    assert status == 200
    assert again == body
    assert headers["Content-Type"] == "image/jpeg"
    assert "max-age" in headers["Cache-Control"]
    final = stats(server)
    assert final["renders"] == after["renders"]
    assert final["hits"] == after["hits"] + 1


def test_workflow_thumbnails_are_hits(server: ThumbnailServer) -> None:
    before = stats(server)
    status, _, body = fetch(server.url + "t/shots/cat_128x128.jpg")
    assert status == 200
    assert Image.open(io.BytesIO(body)).size == (128, 128)
    assert stats(server)["renders"] == before["renders"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("shots/cat_300x300.jpg", 403),
        ("shots/../shots/cat_200x200.jpg", 400),
        ("shots%2Fcat_640x480.jpg", 400),
        ("shots/cat_100000x2.jpg", 400),
        ("shots/cat.jpg", 400),
        ("shots/dog_200x200.jpg", 404),
        ("shots/fake_200x200.jpg", 422),
        # Hardening: path escapes and sizes off the allowlist, over real HTTP.
        ("shots/cat_480x640.jpg", 403),
        ("shots/%2e%2e/cat_200x200.jpg", 400),
        ("shots%5Ccat_200x200.jpg", 400),
        ("shots/cat%00_200x200.jpg", 400),
        ("shots/cat_0200x200.jpg", 400),
        ("shots/%252e%252e/cat_200x200.jpg", 404),
    ],
)
def test_refusals_follow_the_redirect_and_store_nothing(
    server: ThumbnailServer, cloud: LocalCloud, path: str, status: int
) -> None:
    before = stored(cloud)
    first, headers, _ = fetch(server.url + "t/" + path)
    assert first == 302
    answer, headers, body = fetch(server.url + headers["Location"].lstrip("/"))
    assert answer == status, body
    assert headers["Content-Type"] == "application/json"
    if status == 403:
        assert "200x200" in json.loads(body)["allowed"]
    assert stored(cloud) == before
    record("Security", f"GET /t/{path} over HTTP", f"302 to the resizer, then {status}, nothing stored",
           f"{first} then {answer} {json.loads(body)['error']}, "
           f"stored objects {'unchanged' if stored(cloud) == before else 'changed'}")
