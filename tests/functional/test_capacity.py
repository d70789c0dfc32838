"""Past the quotas docs/capacity.md plans for: throttled starts and invokes lose nothing.

A burst of uploads arrives while local mode's wire answers as a saturated account does:

* the rule's StartExecution calls get Step Functions' ``ThrottlingException`` (HTTP 400) for a
  share of attempts: 1,000 uploads a second against the Standard bucket's 300-a-second refill
  leave ~70 % of attempts without a token once the bucket is empty, so a seeded 70 % of the
  rule's attempts are refused while the burst lasts;
* Lambda answers a quarter of the Validate and Render invokes with ``TooManyRequestsException``
  (concurrency exhausted), which the definition retries with backoff.

EventBridge retries each refused start with backoff within the rule's RetryPolicy (its 185
attempts / 24 h scaled by the test's time scale), and past it sends the event to the dead-
letter queue. Every upload must end in exactly one terminal execution or one dead letter,
never both, never neither; the thumbnails of every execution that succeeded must all be
there. Two recovery times are printed and written to test-artifacts/capacity.json, both from
the moment the throttling stops: until every upload has its execution started (EventBridge's
pending retries, each at most one backoff away), and until every execution has ended (the
backlog drained). Nothing asserts on time (the machine is shared).
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests import images
from tests.functional.conftest import ROOT, output, template_copy
from tests.functional.drills import SIZES
from tests.reliability import record
from thumbflow.local.cloud import TERMINAL, LocalCloud
from thumbflow.local.lambdas import Fault
from thumbflow.local.wire import EVENTS, ServiceFault

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

TIME_SCALE = 0.001  # an AWS second is a millisecond here: EventBridge's backoff, the Retry intervals
START_SHARE = 0.7  # of the rule's StartExecution attempts refused while the burst lasts
INVOKE_SHARE = 0.25  # of Validate and Render invokes refused
ARTIFACT = ROOT / "test-artifacts" / "capacity.json"


class Share:
    """``when`` for a fault: True for a seeded share of the calls it is asked about."""

    def __init__(self, share: float, seed: int) -> None:
        self.share = share
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self.seen = 0

    def __call__(self, *_: object) -> bool:
        with self._lock:
            self.seen += 1
            return self._random.random() < self.share


def rule_start_throttled(share: Share) -> ServiceFault:
    """StartExecution as Step Functions refuses it when the account's bucket is empty."""
    return ServiceFault("sfn", "StartExecution", code="ThrottlingException", status=400,
                        message="Rate exceeded (injected)", when=lambda r: r.caller == EVENTS and share())


def invoke_throttled(function: str, share: Share) -> Fault:
    return Fault(function, "throttle", when=share)


def dead_letters(cloud: LocalCloud) -> list[dict[str, Any]]:
    sqs, url = cloud.client("sqs"), cloud.deployed.dead_letter_queue_url
    found: list[dict[str, Any]] = []
    while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                     WaitTimeSeconds=0).get("Messages", []):
        found.extend(got)
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
    return found


def upload_all(cloud: LocalCloud, keys: list[str]) -> None:
    def put(key: str) -> None:
        cloud.upload(key, images.jpeg(96 + len(key) % 13, 72))

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, keys))


def settle(cloud: LocalCloud, keys: list[str], timeout: float = 120) -> tuple[list[dict[str, Any]], float]:
    """Wait until every key has a start or a dead letter and no retry is pending (returns the
    dead letters and when that was), then until every execution has ended."""
    assert cloud.delivery is not None
    deadline = time.monotonic() + timeout
    letters: list[dict[str, Any]] = []
    while True:
        letters.extend(dead_letters(cloud))
        lettered = {json.loads(m["Body"])["detail"]["object"]["key"] for m in letters}
        started = {ev["detail"]["object"]["key"] for _, ev in cloud.started}
        if cloud.delivery.pending() == 0 and set(keys) <= started | lettered:
            break
        assert time.monotonic() < deadline, "uploads still unaccounted for"
        time.sleep(0.005)
    accounted = time.perf_counter()
    cloud.wait_all(timeout=timeout)
    return letters, accounted


def account(cloud: LocalCloud, keys: list[str], letters: list[dict[str, Any]]) -> Counter[str]:
    """Each key: exactly one terminal execution or exactly one dead letter. Returns the outcomes."""
    starts = Counter(ev["detail"]["object"]["key"] for _, ev in cloud.started)
    lettered = Counter(json.loads(m["Body"])["detail"]["object"]["key"] for m in letters)
    for key in keys:
        assert starts[key] + lettered[key] == 1, (key, starts[key], lettered[key])
    outcomes: Counter[str] = Counter(dead_letter=len(letters))
    bucket, s3 = cloud.deployed.thumbnail_bucket, cloud.client("s3")
    stored = set(cloud.objects(bucket))
    for arn, _ in cloud.started:
        desc = cloud.describe(arn)
        assert desc["status"] in TERMINAL
        if desc["status"] == "SUCCEEDED":
            thumbs = output(desc)["thumbnails"]
            assert sorted(t["size"] for t in thumbs) == sorted(SIZES)
            assert {t["key"] for t in thumbs} <= stored
            for thumb in thumbs:
                assert s3.head_object(Bucket=bucket, Key=thumb["key"])["ContentLength"] == thumb["bytes"]
        else:  # only Lambda's throttling, past every retry and the retry pass, may fail an upload
            assert desc["status"] == "FAILED" and desc["error"] == "ThumbnailsFailed", desc
            assert "TooManyRequests" in desc["cause"], desc["cause"]
        outcomes[desc["status"]] += 1
    return outcomes


def report(name: str, figures: dict[str, Any]) -> None:
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    found = json.loads(ARTIFACT.read_text(encoding="utf-8")) if ARTIFACT.is_file() else {}
    found[name] = figures
    ARTIFACT.write_text(json.dumps(found, indent=2) + "\n", encoding="utf-8")


@pytest.fixture
def cloud() -> Iterator[LocalCloud]:
    """A cloud of this test's own (one runs per process; the next test starts another)."""
    with LocalCloud(time_scale=TIME_SCALE) as c:
        yield c


def test_a_throttled_burst_loses_nothing_and_recovers(cloud: LocalCloud,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    keys = [f"burst/photo-{i:03d}.jpg" for i in range(48)]
    starts, validates, renders = Share(START_SHARE, 1), Share(INVOKE_SHARE, 2), Share(INVOKE_SHARE, 3)
    start_fault = rule_start_throttled(starts)
    faults = (start_fault, invoke_throttled("ValidateFunction", validates),
              invoke_throttled("ResizeFunction", renders))
    began = time.perf_counter()
    with cloud.injecting(*faults):
        upload_all(cloud, keys)
        time.sleep(0.05)  # the throttling outlasts the burst a little, as a bucket refills slowly
        refused_starts = start_fault.fired
        refused_invokes = sum(f.fired for f in faults[1:])
    lifted = time.perf_counter()
    letters, accounted = settle(cloud, keys)
    started_again, recovered = accounted - lifted, time.perf_counter() - lifted

    outcomes = account(cloud, keys, letters)
    assert refused_starts > 0 and refused_invokes > 0
    assert outcomes["dead_letter"] == 0  # 185 attempts over 24 h ride out any burst
    assert outcomes["SUCCEEDED"] + outcomes["FAILED"] == len(keys)
    figures = {"uploads": len(keys), "refused_starts": refused_starts, "start_attempts": starts.seen,
               "refused_invokes": refused_invokes, "succeeded": outcomes["SUCCEEDED"],
               "failed": outcomes["FAILED"], "dead_letters": outcomes["dead_letter"],
               "burst_s": round(lifted - began, 3),
               "every_start_made_s": round(started_again, 3), "recovery_s": round(recovered, 3),
               "time_scale": TIME_SCALE}
    report("template_retry_policy", figures)
    with capsys.disabled():
        print(f"\ncapacity: {len(keys)} uploads; {refused_starts} of {starts.seen} rule starts and "
              f"{refused_invokes} invokes throttled; {outcomes['SUCCEEDED']} succeeded, "
              f"{outcomes['FAILED']} failed, {outcomes['dead_letter']} dead letters; after the throttling "
              f"stopped, every start was made in {started_again:.2f} s and everything done in "
              f"{recovered:.2f} s "
              f"-> {ARTIFACT.relative_to(ROOT)}")
    record("Capacity", "a burst of uploads while 70 % of the rule's starts are throttled "
           "(ThrottlingException) and 25 % of invokes (TooManyRequestsException)",
           "every upload in exactly one terminal execution; the template's RetryPolicy "
           "(185 attempts, 24 h) sends nothing to the DLQ",
           f"each key of {len(keys)} exactly once; every SUCCEEDED execution has all its thumbnails; "
           f"DLQ {outcomes['dead_letter']}")


def test_past_a_short_retry_policy_the_rest_goes_to_the_dead_letter_queue(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """With two retries in ten minutes (scaled): uploads made while every start is refused all end
    in the dead-letter queue with EventBridge's attributes; those made while 70 % are refused
    end in an execution or a dead letter, never both."""

    def short_policy(template: dict[str, Any]) -> None:
        upload = template["Resources"]["ThumbnailWorkflow"]["Properties"]["Events"]["Upload"]
        upload["Properties"]["RetryPolicy"] = {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}

    outage = [f"short/outage-{i:02d}.jpg" for i in range(8)]
    burst = [f"short/burst-{i:02d}.jpg" for i in range(24)]
    with LocalCloud(template_copy(tmp_path, short_policy), time_scale=TIME_SCALE) as short:
        assert short.delivery is not None
        for keys, share in ((outage, Share(1.0, 4)), (burst, Share(START_SHARE, 5))):
            with short.injecting(rule_start_throttled(share)):
                upload_all(short, keys)
                deadline = time.monotonic() + 60
                while short.delivery.pending() and time.monotonic() < deadline:
                    time.sleep(0.005)  # the policy runs out while the throttling lasts
        letters, _ = settle(short, outage + burst)
        outcomes = account(short, outage + burst, letters)
        by_key = {json.loads(m["Body"])["detail"]["object"]["key"]:
                  {k: v["StringValue"] for k, v in m["MessageAttributes"].items()} for m in letters}
        rule_arn = short.deployed.rule_arn
    assert set(outage) <= set(by_key)
    for key in outage:
        attributes = by_key[key]
        assert attributes["RULE_ARN"] == rule_arn
        assert attributes["TARGET_ARN"].endswith(":stateMachine:thumbflow-ThumbnailWorkflow")
        assert (attributes["ERROR_CODE"], attributes["ERROR_MESSAGE"]) == ("ThrottlingException",
                                                                         "Rate exceeded (injected)")
        # Whichever limit ran out first (on a busy machine the scaled 600 s can, before 2 retries).
        assert (attributes["EXHAUSTED_RETRY_CONDITION"], attributes["RETRY_ATTEMPTS"]) in (
            ("MaximumRetryAttempts", "2"), ("MaximumEventAgeInSeconds", "0"),
            ("MaximumEventAgeInSeconds", "1"), ("MaximumEventAgeInSeconds", "2")), attributes
    assert outcomes["SUCCEEDED"] + outcomes["dead_letter"] == len(outage) + len(burst)
    report("short_retry_policy", {"uploads": len(outage) + len(burst), "succeeded": outcomes["SUCCEEDED"],
                                  "dead_letters": outcomes["dead_letter"]})
    with capsys.disabled():
        print(f"\ncapacity, 2 retries: {len(outage)} uploads in an outage, {len(burst)} in a 70 % "
              f"throttle: {outcomes['SUCCEEDED']} executions, {outcomes['dead_letter']} dead letters")
    record("Capacity", "throttled starts past a short RetryPolicy (2 retries, 600 s)",
           "each upload an execution or a dead letter, never both; those made while every start is "
           "refused all in the DLQ",
           "each key exactly once; the outage's dead letters carry the rule, the target, ERROR_CODE "
           "ThrottlingException and the retry condition that ran out")
