"""The on-demand resizer renders a missing size once, however many requests miss it together,
and a HEAD never renders."""

from __future__ import annotations

import base64
import io
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PIL import Image

from tests import images
from tests.functional.conftest import run_upload
from tests.functional.drills import decode_fully, window
from tests.reliability import record
from thumbflow.local import LocalCloud

RESIZER = "OnDemandFunction"


def request(cloud: LocalCloud, path: str, method: str = "GET") -> dict[str, Any]:
    event = {"version": "2.0", "rawPath": path, "rawQueryString": "", "headers": {},
             "requestContext": {"http": {"method": method, "path": path}}}
    body, error = cloud.invoke(RESIZER, event)
    assert error is None, body
    return json.loads(body)


def test_concurrent_misses_for_one_url_render_it_once(cloud: LocalCloud) -> None:
    run_upload(cloud, "flight/crowd.jpg", images.jpeg(2400, 1600))
    w = window(cloud)
    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda _: request(cloud, "/flight/crowd_640x480.jpg"), range(16)))
    assert [a["statusCode"] for a in answers] == [200] * 16
    bodies = {a["body"] for a in answers}
    assert len(bodies) == 1  # every request got the same stored bytes
    decode_fully(base64.b64decode(bodies.pop()))
    resizer = w.requests(RESIZER)
    # Each request that missed judges the 64 KiB header before it asks for the lease; only the
    # lease holder then reads the whole source, renders and writes.
    source_reads = [r for r in resizer if r.operation == "GetObject" and r.key == "flight/crowd.jpg"]
    writes = [r for r in resizer if r.operation == "PutObject" and r.key == "flight/crowd_640x480.jpg"]
    assert len(writes) == 1 and len(source_reads) <= 16 + 1, (len(source_reads), len(writes))
    assert "flight/crowd_640x480.jpg.rendering" not in cloud.objects(cloud.deployed.thumbnail_bucket)
    rendered = sum(1 for a in answers if a["headers"].get("X-Thumbnail-Source") == "rendered")
    assert rendered == 1
    record("On demand", "16 concurrent misses for one URL", "one render, one write, 16 answers",
           f"{rendered} rendered, {len(writes)} write, {len(answers)} answers "
           "(source reads: at most one header read per request and one whole read)")


def test_a_head_of_a_missing_size_renders_nothing(cloud: LocalCloud) -> None:
    run_upload(cloud, "flight/head.jpg", images.jpeg(800, 600))
    w = window(cloud)
    answer = request(cloud, "/flight/head_200x200.jpg", method="HEAD")
    assert answer["statusCode"] == 404 and answer["body"] == ""
    assert "flight/head_200x200.jpg" not in cloud.objects(cloud.deployed.thumbnail_bucket)
    writes = [r for r in w.requests(RESIZER) if r.operation == "PutObject"]
    assert writes == []
    got = request(cloud, "/flight/head_200x200.jpg")  # a GET renders it; then HEAD finds it
    assert got["statusCode"] == 200
    Image.open(io.BytesIO(base64.b64decode(got["body"]))).verify()
    assert request(cloud, "/flight/head_200x200.jpg", method="HEAD")["statusCode"] == 200
    record("On demand", "HEAD of a size not stored yet", "404, nothing rendered or stored",
           f"{answer['statusCode']}, {len(writes)} writes")
