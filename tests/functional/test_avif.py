"""AVIF out: a Configure size with ``format: avif``, and on-demand URLs ending ``.avif``, in local mode.

Each thumbnail is opened by Pillow's own AVIF reader (libavif with dav1d), not by the engine:
what is checked is a real AV1 image of the size the fit rule gives, named and typed as AVIF.
"""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import images
from tests.functional.conftest import TIME_SCALE, output, run_upload
from tests.functional.test_failures import definition_with
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud
from thumbflow.serve import serving

AVIF_SIZE = {"name": "card", "width": 400, "height": 400, "fit": "inside", "format": "avif", "quality": 80}


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.build_opener(_NoRedirect()).open(url, timeout=60) as resp:
            return resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


@pytest.fixture(scope="module")
def avif_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCloud]:
    path = definition_with(tmp_path_factory.mktemp("def"), add_size=AVIF_SIZE)
    with LocalCloud(definition_path=path, time_scale=TIME_SCALE) as cloud:
        yield cloud


def opened(cloud: LocalCloud, key: str) -> tuple[Image.Image, dict[str, Any], bytes]:
    got = cloud.client("s3").get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key)
    body = got["Body"].read()
    im = Image.open(io.BytesIO(body))
    im.load()
    return im, got, body


@pytest.mark.parametrize(
    ("key", "body", "displayed", "alpha"),
    [
        ("avif/photo.jpg", images.jpeg(900, 600), (900, 600), False),
        ("avif/portrait.heic", images.oriented_heic(6, 320, 480), (320, 480), False),
        ("avif/logo.png", images.png_alpha(600, 300), (600, 300), True),
    ],
    ids=["jpeg", "heic-portrait", "png-alpha"],
)
def test_a_size_with_format_avif_writes_real_avif_files(
    avif_cloud: LocalCloud, key: str, body: bytes, displayed: tuple[int, int], alpha: bool
) -> None:
    _, desc = run_upload(avif_cloud, key, body)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    (card,) = [t for t in output(desc)["thumbnails"] if t["size"] == "400x400"]
    scale = min(1.0, 400 / max(displayed))
    want = (round(displayed[0] * scale), round(displayed[1] * scale))
    stem = key.rsplit(".", 1)[0]
    assert card["key"] == f"{stem}_400x400.avif" and card["format"] == "avif"
    assert (card["width"], card["height"]) == want
    im, got, data = opened(avif_cloud, card["key"])
    assert data[4:12] == b"ftypavif"
    assert (im.format, im.size) == ("AVIF", want)
    assert got["ContentType"] == "image/avif" and card["bytes"] == len(data)
    assert (im.mode == "RGBA") is alpha
    if alpha:
        assert im.getchannel("A").getextrema() == (0, 255)
    assert im.getexif() == {} and "icc_profile" not in im.info
    # The other sizes stay 'auto': JPEG (or WebP with transparency) beside the AVIF.
    others = {t["format"] for t in output(desc)["thumbnails"] if t["size"] != "400x400"}
    assert others == {"webp" if alpha else "jpeg"}
    record("AVIF output", f"Configure size format avif, {key.rsplit('.', 1)[1]} source",
           "a real AVIF of the fit rule's size, .avif, image/avif",
           f"{card['key'].rsplit('/', 1)[1]} {im.format} {im.width}x{im.height} {im.mode}, "
           f"{len(data)} bytes, {got['ContentType']}")


def test_on_demand_avif_urls_render_allowed_sizes_and_refuse_others(
    avif_cloud: LocalCloud, tmp_path: Path
) -> None:
    _, desc = run_upload(avif_cloud, "shots/cat.heic", images.oriented_heic(6, 480, 640))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    with serving(avif_cloud, 0, background=True) as server:
        status, headers, _ = fetch(server.url + "t/shots/cat_200x200.avif")
        assert status == 302 and headers["Location"] == "/resize/shots/cat_200x200.avif"
        status, headers, body = fetch(server.url + "resize/shots/cat_200x200.avif")
        assert status == 200, body[:300]
        assert headers["Content-Type"] == "image/avif"
        im = Image.open(io.BytesIO(body))
        assert (im.format, im.size) == ("AVIF", (150, 200))  # portrait: the irot applied
        assert "shots/cat_200x200.avif" in avif_cloud.objects(avif_cloud.deployed.thumbnail_bucket)
        # The workflow's own AVIF size is a hit, not a render.
        status, headers, hit = fetch(server.url + "t/shots/cat_400x400.avif")
        assert status == 200 and headers["Content-Type"] == "image/avif"
        assert Image.open(io.BytesIO(hit)).size == (300, 400)
        # A size off the allowlist is refused whatever the extension.
        status, _, _ = fetch(server.url + "resize/shots/cat_300x300.avif")
        assert status == 403
    record("AVIF output", "on-demand URL ending .avif",
           "allowed size rendered as image/avif; stored Configure AVIF a hit; other sizes 403",
           f"200x200 -> {im.format} {im.width}x{im.height}; 400x400 hit; 300x300 {status}")
