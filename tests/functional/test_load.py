"""200 uploads at once, valid and invalid mixed: nothing lost, nothing duplicated.

The uploads go in from 16 threads; the template's rule starts one execution per
upload, and they all run together in this process. Afterwards every upload must
have exactly one execution in a terminal state with its expected outcome, and
the thumbnail bucket must hold exactly the thumbnails of the valid ones, each
decoding fully. The run prints images per second and writes it to
test-artifacts/load.json; nothing asserts on time (the machine is shared).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests import images
from tests.functional.conftest import ROOT, output
from tests.functional.drills import SIZES, claims, decode_fully
from tests.reliability import record
from thumbflow.local.cloud import TERMINAL, LocalCloud

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

UPLOADS = 200
ARTIFACT = ROOT / "test-artifacts" / "load.json"


def corpus() -> list[tuple[str, bytes, str | None]]:
    """(key, body, expected rejection reason or None): 3 in 4 valid, small so it stays quick."""
    truncated = images.jpeg(640, 480)
    truncated = truncated[: len(truncated) // 2]
    bad = [(b"", "empty"), (images.TEXT, "text"), (truncated, "truncated"), (images.SVG, "svg")]
    cases: list[tuple[str, bytes, str | None]] = []
    for i in range(UPLOADS):
        if i % 4 == 3:
            body, reason = bad[(i // 4) % len(bad)]
            cases.append((f"load/bad-{i:03d}.jpg", body, reason))
        elif i % 8 == 1:
            cases.append((f"load/logo-{i:03d}.png", images.png_alpha(80 + i % 7, 60), None))
        else:
            cases.append((f"load/photo-{i:03d}.jpg", images.jpeg(96 + i % 13, 72), None))
    return cases


def executions(cloud: LocalCloud) -> list[dict[str, Any]]:
    sfn = cloud.client("stepfunctions")
    found: list[dict[str, Any]] = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=cloud.deployed.state_machine_arn
    ):
        found.extend(page["executions"])
    return found


def test_200_parallel_uploads_each_end_exactly_once(cloud: LocalCloud,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    cases = corpus()
    expected = {key: reason for key, _, reason in cases}
    valid = [k for k, r in expected.items() if r is None]
    before = len(executions(cloud))

    started_at = time.perf_counter()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(lambda case: cloud.upload(case[0], case[1]), cases))
    cloud.wait_all(timeout=600)
    seconds = time.perf_counter() - started_at

    # Exactly one execution per upload, none lost, none twice.
    started = [(arn, ev["detail"]["object"]["key"]) for arn, ev in cloud.started]
    per_key = Counter(key for _, key in started)
    assert set(per_key) == set(expected) and set(per_key.values()) == {1}, per_key
    listed = executions(cloud)
    assert len(listed) - before == UPLOADS
    assert {e["executionArn"] for e in listed} >= {arn for arn, _ in started}
    attrs = cloud.client("sqs").get_queue_attributes(
        QueueUrl=cloud.deployed.dead_letter_queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    dead_letters = int(attrs["ApproximateNumberOfMessages"])
    assert dead_letters == 0

    # Each one ended as it should.
    outcomes: Counter[str] = Counter()
    manifests: dict[str, list[dict[str, Any]]] = {}
    for arn, key in started:
        desc = cloud.describe(arn)
        assert desc["status"] in TERMINAL
        reason = expected[key]
        if reason is None:
            assert desc["status"] == "SUCCEEDED", (key, desc.get("cause"))
            manifests[key] = output(desc)["thumbnails"]
            assert sorted(t["size"] for t in manifests[key]) == sorted(SIZES)
            outcomes["SUCCEEDED"] += 1
        else:
            assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected", (key, desc)
            assert desc["cause"].startswith(reason), (key, desc["cause"])
            outcomes[f"ImageRejected {reason}"] += 1

    # The thumbnail bucket holds exactly the valid uploads' thumbnails, each complete.
    s3 = cloud.client("s3")
    bucket = cloud.deployed.thumbnail_bucket
    stored = set(cloud.objects(bucket))
    listed_thumbs = {t["key"]: t for key in valid for t in manifests[key]}
    assert stored == set(listed_thumbs)
    assert claims(cloud) == {key.rsplit(".", 1)[0]: key for key in valid}  # one per valid source
    for key, thumb in listed_thumbs.items():
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert len(body) == thumb["bytes"]
        assert decode_fully(body).size == (thumb["width"], thumb["height"])

    alerts = Counter(a.body.get("key") for a in cloud.alerts())
    assert alerts == {k: 1 for k, r in expected.items() if r is not None}

    rate = UPLOADS / seconds
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps({
        "uploads": UPLOADS, "valid": len(valid), "invalid": UPLOADS - len(valid),
        "thumbnails": len(stored), "seconds": round(seconds, 2),
        "images_per_second": round(rate, 2),
    }, indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print(f"\nload: {UPLOADS} uploads ({len(valid)} valid) in {seconds:.1f} s = "
              f"{rate:.1f} images/s ({len(stored)} thumbnails) -> {ARTIFACT.relative_to(ROOT)}")
    record("Load", f"{UPLOADS} uploads in parallel ({len(valid)} valid, {UPLOADS - len(valid)} invalid)",
           "one terminal execution each; valid: 4 thumbnails each, all decoding; invalid: "
           "ImageRejected with its reason and one alert; DLQ empty",
           f"{len(started)} executions for {len(per_key)} keys; "
           + ", ".join(f"{n} {o}" for o, n in sorted(outcomes.items()))
           + f"; {len(stored)} thumbnails; {sum(alerts.values())} alerts; DLQ {dead_letters}")
