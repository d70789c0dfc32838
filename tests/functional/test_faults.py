"""Injected service faults, answered on the wire (``thumbflow.local.wire``) or by the Lambda stand-in.

S3 errors reach the handlers as botocore sees them (the SDK retries, then the
handlers' ``TransientError`` is retried by the definition); Lambda and SNS
errors reach the Step Functions interpreter's own integrations. Every case runs
the whole workflow and then counts what was called, so "retried" also means
"retried a bounded number of times".
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from thumbnailer import storage
from thumbnailer.errors import TransientError

from tests import images
from tests.functional.conftest import output, run_upload
from tests.functional.drills import expected_keys, thumbnails_under, window
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.lambdas import Fault
from thumbflow.local.wire import STATES, ServiceFault

# Attempts the handlers' S3 client makes per call (botocore standard mode, 3 retries).
SDK_ATTEMPTS = 4


@pytest.fixture(autouse=True)
def cold_workers(cloud: LocalCloud) -> None:
    """Each case starts from cold Lambda environments, so each handler makes a new S3 client.

    botocore's standard mode keeps a retry quota per client that failed requests drain;
    a fresh client makes the SDK's share of the retries the same whatever ran before.
    """
    cloud.lambdas.recycle()


def alerts_for(cloud: LocalCloud, arn: str) -> list[dict[str, Any]]:
    return [a.body for a in cloud.alerts() if a.body.get("execution") == arn]


def failed_tasks(cloud: LocalCloud, arn: str) -> list[str]:
    return [e["taskFailedEventDetails"].get("error", "") for e in cloud.history(arn)
            if e["type"] == "TaskFailed"]


def test_handlers_s3_client_attempts(cloud: LocalCloud) -> None:
    """The counts below rely on it: SDK retries first, the definition's Retry after."""
    assert storage.s3().meta.config.retries["total_max_attempts"] == SDK_ATTEMPTS


# -- S3 throttling and 5xx inside the handlers -----------------------------------------------------
S3_FAULTS = [
    ("ValidateFunction", "GetObject", "SlowDown", 503),
    ("ValidateFunction", "GetObject", "InternalError", 500),
    ("ResizeFunction", "HeadObject", "ServiceUnavailable", 503),
    ("ResizeFunction", "GetObject", "SlowDown", 503),
    ("ResizeFunction", "PutObject", "SlowDown", 503),
    ("ResizeFunction", "PutObject", "InternalError", 500),
    ("ResizeFunction", "PutObject", "ServiceUnavailable", 503),
]


@pytest.mark.parametrize("times", [SDK_ATTEMPTS - 1, SDK_ATTEMPTS + 2], ids=["sdk-absorbs", "outlasts-sdk"])
@pytest.mark.parametrize(("caller", "operation", "code", "status"), S3_FAULTS,
                         ids=[f"{c[:-8]}-{o}-{e}" for c, o, e, _ in S3_FAULTS])
def test_transient_s3_fault_is_retried_and_succeeds(
    cloud: LocalCloud, caller: str, operation: str, code: str, status: int, times: int
) -> None:
    key = f"s3faults/{caller}-{operation}-{code}-{times}.jpg"
    stem = key[:-4]
    fault = ServiceFault("s3", operation, code=code, status=status, times=times,
                         message=f"{code} (injected)",
                         when=lambda r: r.caller == caller and r.key.startswith(stem))
    w = window(cloud)
    with cloud.injecting(fault):
        arn, desc = run_upload(cloud, key, images.jpeg(400, 300))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert output(desc)["outcome"] == "thumbnails"
    assert fault.fired == times
    # Within the SDK's attempts the handler never sees it; beyond them, one TransientError
    # that the definition's Retry absorbs (and no retry branch).
    errors = [i.error for i in w.invocations(caller) if i.error]
    assert errors == ([] if times < SDK_ATTEMPTS else ["TransientError"]), errors
    assert "WaitStateEntered" not in {e["type"] for e in cloud.history(arn)}
    stored = thumbnails_under(cloud, stem)
    assert set(stored) == expected_keys(stem)
    assert alerts_for(cloud, arn) == []
    where = "SDK retries" if times < SDK_ATTEMPTS else "SDK retries, then the definition's Retry"
    record("Faults", f"S3 {code} ({status}) on {operation} in {caller}, {times} times",
           f"SUCCEEDED with 4 thumbnails, absorbed by {where}, no alert",
           f"{desc['status']}; fired {fault.fired}; handler errors {errors or 'none'}; "
           f"{len(stored)} thumbnails; alerts {len(alerts_for(cloud, arn))}")


# -- Lambda throttling and service errors ----------------------------------------------------------
LAMBDA_FAULTS: list[tuple[str, Any, str]] = [
    ("Validate throttled twice", lambda: Fault("ValidateFunction", "throttle", times=2),
     "Lambda.TooManyRequestsException"),
    ("Resize throttled 3 times", lambda: Fault("ResizeFunction", "throttle", times=3),
     "Lambda.TooManyRequestsException"),
    ("Lambda ServiceException (500) twice",
     lambda: ServiceFault("lambda", "Invoke", code="ServiceException", status=500, times=2,
                          message="Lambda is unwell (injected)", when=lambda r: r.caller == STATES),
     "Lambda.ServiceException"),
    ("Lambda TooManyRequestsException (429) on the wire twice",
     lambda: ServiceFault("lambda", "Invoke", code="TooManyRequestsException", status=429, times=2,
                          message="Rate exceeded (injected)", when=lambda r: r.caller == STATES),
     "Lambda.TooManyRequestsException"),
]


@pytest.mark.parametrize(("case", "make_fault", "error"), LAMBDA_FAULTS, ids=[c[0] for c in LAMBDA_FAULTS])
def test_lambda_throttling_and_service_errors_are_retried(
    cloud: LocalCloud, case: str, make_fault: Any, error: str
) -> None:
    fault = make_fault()
    key = "lambdafaults/" + case.replace(" ", "-").replace("(", "").replace(")", "") + ".jpg"
    with cloud.injecting(fault):
        arn, desc = run_upload(cloud, key, images.jpeg(300, 200))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert len(output(desc)["thumbnails"]) == 4
    failed = failed_tasks(cloud, arn)
    assert failed == [error] * fault.times, failed
    assert fault.fired == fault.times
    alerts = alerts_for(cloud, arn)
    assert alerts == []
    record("Faults", case, "retried by the definition; SUCCEEDED, no alert",
           f"{desc['status']}; failed tasks {len(failed)} x {', '.join(sorted(set(failed)))}; "
           f"alerts {len(alerts)}")


def test_persistent_throttling_is_bounded_then_alerts(cloud: LocalCloud) -> None:
    w = window(cloud)
    with cloud.injecting(Fault("ValidateFunction", "throttle")):
        arn, desc = run_upload(cloud, "lambdafaults/always-throttled.jpg", images.jpeg(300, 200))
    assert desc["status"] == "FAILED" and desc["error"] == "ThumbnailsFailed"
    assert "Lambda.TooManyRequestsException" in desc["cause"]
    failed = failed_tasks(cloud, arn)
    invokes = w.counts(STATES)[("lambda", "Invoke")]
    assert failed == ["Lambda.TooManyRequestsException"] * 5 and invokes == 5  # 1 + MaxAttempts 4
    assert len(alerts_for(cloud, arn)) == 1
    record("Faults", "Validate throttled on every attempt",
           "5 attempts (Retry MaxAttempts 4), FAILED ThumbnailsFailed, one alert",
           f"{invokes} attempts, {desc['status']} {desc['error']}, {len(alerts_for(cloud, arn))} alert")


# -- one size failing for good, then fixed ----------------------------------------------------------
def test_persistent_put_failure_of_one_size_then_rerun_does_only_what_is_missing(
    cloud: LocalCloud,
) -> None:
    key, stem = "persistent/one-size.jpg", "persistent/one-size"
    broken = f"{stem}_256x256.jpg"
    fault = ServiceFault("s3", "PutObject", code="InternalError", status=500,
                         message="We encountered an internal error (injected)",
                         when=lambda r: r.key == broken)
    w = window(cloud)
    with cloud.injecting(fault):
        arn, desc = run_upload(cloud, key, images.jpeg(600, 400))
    assert desc["status"] == "FAILED" and desc["error"] == "ThumbnailsFailed"
    assert "256x256" in desc["cause"] and "TransientError" in desc["cause"]
    events = [e["type"] for e in cloud.history(arn)]
    assert "WaitStateEntered" in events  # the retry branch ran
    resize = w.invocations("ResizeFunction")
    assert [i.error for i in resize] == ["TransientError"] * 10  # 5 attempts, then 5 more
    assert fault.fired == SDK_ATTEMPTS * len(resize)  # bounded: no storm at any level
    alerts = alerts_for(cloud, arn)
    assert len(alerts) == 1 and alerts[0]["error"] == "ThumbnailsFailed"
    # The default Configure renders all sizes in one group, largest first: 1024 and 512 were
    # stored by the first attempt and reused by the nine after it; 256 never, 128 never reached.
    assert set(thumbnails_under(cloud, stem)) == {f"{stem}_1024x1024.jpg", f"{stem}_512x512.jpg"}

    rerun = window(cloud)
    again = cloud.wait(cloud.execute(json.loads(cloud.describe(arn)["input"])))
    assert again["status"] == "SUCCEEDED", again.get("cause")
    fresh = sorted(t["size"] for t in output(again)["thumbnails"] if not t["reused"])
    assert fresh == ["128x128", "256x256"]
    puts = Counter(r.key for r in rerun.requests("ResizeFunction") if r.operation == "PutObject")
    assert puts == {broken: 1, f"{stem}_128x128.jpg": 1}, puts
    assert set(thumbnails_under(cloud, stem)) == expected_keys(stem)
    # Over both runs, every thumbnail was written exactly once.
    written = Counter(r.key for r in w.requests("ResizeFunction")
                      if r.operation == "PutObject" and not r.failed)
    assert written == {k: 1 for k in expected_keys(stem)}, written
    record("Faults", "PutObject of one size fails for good (500 on every attempt), then clears",
           "retry branch, one alert, FAILED ThumbnailsFailed; the re-run writes only the missing "
           "sizes; every thumbnail written once",
           f"{desc['status']} {desc['error']}, {len(resize)} Resize attempts, {len(alerts)} alert; "
           f"re-run {again['status']} writing {fresh}; writes per key {sorted(set(written.values()))}")


# -- SNS unavailable when alerting -----------------------------------------------------------------
def sns_down(times: int | None = None) -> ServiceFault:
    return ServiceFault("sns", "Publish", code="InternalError", status=500, times=times,
                        message="SNS is down (injected)", when=lambda r: r.caller == STATES)


@pytest.mark.parametrize("error", ["ImageRejected", "ThumbnailsFailed"])
def test_sns_down_execution_fails_with_its_own_error_and_says_alert_not_sent(
    cloud: LocalCloud, error: str
) -> None:
    key = f"snsdown/{error}.jpg"
    fault = sns_down()
    faults: list[Any] = [fault]
    if error == "ThumbnailsFailed":
        faults.append(Fault("ResizeFunction", TransientError("disk on fire (injected)")))
    body = images.TEXT if error == "ImageRejected" else images.jpeg(300, 200)
    w = window(cloud)
    with cloud.injecting(*faults):
        arn, desc = run_upload(cloud, key, body)
    assert desc["status"] == "FAILED"
    assert desc["error"] == error  # its own error, not SNS's
    reason = "text:" if error == "ImageRejected" else "sizes "
    assert desc["cause"].startswith(reason), desc["cause"]
    assert desc["cause"].endswith("(alert not sent: SNS.InternalErrorException)"), desc["cause"]
    history = cloud.history(arn)
    sns_failures = [e["taskFailedEventDetails"] for e in history if e["type"] == "TaskFailed"
                    and e["taskFailedEventDetails"].get("resourceType") == "sns"]
    assert [f["error"] for f in sns_failures] == ["SNS.InternalErrorException"] * 4  # 1 + 3 retries
    entered = [e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e]
    assert "Note that the alert was not sent" in entered
    assert w.counts(STATES)[("sns", "Publish")] == 4 == fault.fired
    assert alerts_for(cloud, arn) == []
    record("Faults", f"SNS Publish fails (500) on every attempt while alerting ({error})",
           f"FAILED {error} (its own error); cause ends '(alert not sent: <SNS error>)'; "
           "history shows 4 failed publishes and 'Note that the alert was not sent'",
           f"{desc['status']} {desc['error']}; cause ends "
           f"{desc['cause'][desc['cause'].rfind('('):]!r}; {len(sns_failures)} failed publishes")


def test_sns_hiccup_while_alerting_still_delivers_one_alert(cloud: LocalCloud) -> None:
    fault = sns_down(times=2)
    with cloud.injecting(fault):
        arn, desc = run_upload(cloud, "snsdown/hiccup.jpg", images.TEXT)
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected"
    assert "alert not sent" not in desc["cause"]
    alerts = alerts_for(cloud, arn)
    assert len(alerts) == 1 and alerts[0]["error"] == "ImageRejected"
    assert fault.fired == 2
    record("Faults", "SNS Publish fails twice, then answers",
           "FAILED ImageRejected; the Alert state's Retry delivers exactly one alert",
           f"{desc['status']} {desc['error']}; {len(alerts)} alert after {fault.fired} failures")
