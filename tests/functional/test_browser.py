"""The gallery in a real browser: every <img> loads, at the size the renderer says it made.

Headless Chromium follows the 302s itself, so this checks the miss -> resizer path
the way a page uses it. Chromium is a test dependency (.ci/run installs it): a
missing browser fails, it never skips.
"""

from __future__ import annotations

import html
import io
import json
import re
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests import images
from thumbflow.local.cloud import LocalCloud
from thumbflow.serve import ThumbnailServer, deployed_allowlist, serving

from .conftest import ROOT, output, run_upload

ARTIFACTS = ROOT / "test-artifacts"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
SOURCES = {"album/wide.jpg": (800, 500), "album/tall.png": (300, 400)}
REPORT = re.compile(r'<pre id="report">(.*?)</pre>', re.S)


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and Path("/usr/bin/chromium").exists():
        found = "/usr/bin/chromium"
    if found is None:
        pytest.fail("chromium is not installed: apt-get install -y chromium (.ci/run does this)")
    return found


def browse(url: str, profile: Path, *extra: str) -> str:
    result = subprocess.run(
        [chromium(), *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=5000", *extra, url],
        capture_output=True, text=True, timeout=90, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def report(dom: str) -> list[dict[str, Any]]:
    match = REPORT.search(dom)
    assert match, f"no report in the page: {dom[-500:]}"
    return json.loads(html.unescape(match.group(1)))


def stats(server: ThumbnailServer) -> dict[str, int]:
    with urllib.request.urlopen(server.url + "stats", timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def server(cloud: LocalCloud) -> Iterator[ThumbnailServer]:
    buf = io.BytesIO()
    images.photo(*SOURCES["album/tall.png"]).save(buf, "PNG")
    for key, body in (("album/wide.jpg", images.jpeg(*SOURCES["album/wide.jpg"])),
                      ("album/tall.png", buf.getvalue())):
        _, desc = run_upload(cloud, key, body)
        assert desc["status"] == "SUCCEEDED", output(desc)
    with serving(cloud, 0, background=True) as s:
        yield s


def test_gallery_loads_every_size_once_then_from_storage(
    server: ThumbnailServer, cloud: LocalCloud, tmp_path: Path
) -> None:
    allowed = deployed_allowlist(cloud)
    on_demand_only = [b for b in allowed.extra if allowed.spec_for(*b, "jpeg").name == ""]
    first = report(browse(server.url, tmp_path / "p1", "--dump-dom"))
    assert len(first) == 2 * len(allowed.labels())
    after_first = stats(server)

    s3 = cloud.client("s3")
    for img in first:
        assert img["naturalWidth"] > 0, f"{img['src']} did not load"
        meta = s3.head_object(Bucket=cloud.deployed.thumbnail_bucket, Key=img["key"])["Metadata"]
        assert (img["naturalWidth"], img["naturalHeight"]) == (int(meta["width"]), int(meta["height"]))
        w, h = (int(v) for v in img["size"].split("x"))
        spec = allowed.spec_for(w, h, "jpeg")
        assert img["naturalWidth"] <= w and img["naturalHeight"] <= h
        if spec.fit == "cover":
            assert (img["naturalWidth"], img["naturalHeight"]) == (w, h)
        else:  # inside: one side touches the box, unless that would upscale the source
            source = next(size for key, size in SOURCES.items() if img["key"].startswith(key[:-4] + "_"))
            natural = (img["naturalWidth"], img["naturalHeight"])
            assert natural[0] == w or natural[1] == h or natural == source
    # The workflow made the Configure sizes; only the parameter-only sizes were rendered on demand.
    assert after_first["renders"] == 2 * len(on_demand_only)

    second = report(browse(server.url, tmp_path / "p2", "--dump-dom"))
    assert [(i["key"], i["naturalWidth"]) for i in second] == [(i["key"], i["naturalWidth"]) for i in first]
    after_second = stats(server)
    assert after_second["renders"] == after_first["renders"]
    assert after_second["hits"] == after_first["hits"] + len(second)
    print(f"gallery renders: first load {after_first['renders']}, second load "
          f"{after_second['renders'] - after_first['renders']}")


def test_gallery_screenshot(server: ThumbnailServer, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "gallery.png"
    shot.unlink(missing_ok=True)
    browse(server.url, tmp_path / "p3", f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.is_file() and shot.stat().st_size > 10_000
    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        colours = im.convert("RGB").resize((64, 100)).getcolors(64 * 100)
        assert colours is not None and len(colours) > 50, "the screenshot is (nearly) blank"
