"""A function's MemorySize and Timeout hold in local mode, and each worker has its function's environment.

Each case runs a copy of template.yaml with ResizeFunction's limits changed, so the
limit comes from a template, as in AWS. A worker over its MemorySize is killed and the
invocation ends as Lambda reports it (``Runtime.OutOfMemory``); over its Timeout,
``Sandbox.Timedout``; a worker that dies on its own, ``Runtime.ExitError``. The
definition sees those names: none is in its Retry lists, so each falls through to the
``States.ALL`` catch, the retry pass, ``ThumbnailsFailed`` and one alert.

Lambda gives a function below 1,769 MB that share of a vCPU, so CPU time counts
1769/MemorySize times towards the Timeout (``pool.charged_seconds``).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, Lines, template_copy
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.lambdas import Invocation
from thumbflow.local.limits import FULL_VCPU_MB
from thumbflow.local.wire import Request


def resize_limits(memory_mb: int, timeout_s: int) -> Callable[[dict[str, Any]], None]:
    def edit(template: dict[str, Any]) -> None:
        props = template["Resources"]["ResizeFunction"]["Properties"]
        props["MemorySize"], props["Timeout"] = memory_mb, timeout_s

    return edit


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    def make(edit: Callable[[dict[str, Any]], None]) -> Path:
        return template_copy(tmp_path_factory.mktemp("template"), edit)

    return make


def run_one(cloud: LocalCloud, key: str, body: bytes) -> tuple[str, dict[str, Any], list[Invocation]]:
    before, since = len(cloud.started), len(cloud.lambdas.invocations)
    cloud.upload(key, body)
    (arn,) = [a for a, ev in cloud.started[before:] if ev["detail"]["object"]["key"] == key]
    desc = cloud.wait(arn, timeout=120)
    return arn, desc, [i for i in cloud.lambdas.invocations[since:] if i.function == "ResizeFunction"]


def failed_tasks(cloud: LocalCloud, arn: str) -> list[dict[str, Any]]:
    return [e["taskFailedEventDetails"] for e in cloud.history(arn) if e["type"] == "TaskFailed"
            and e["taskFailedEventDetails"].get("resourceType") == "lambda"]


def assert_ends_thumbnails_failed(cloud: LocalCloud, arn: str, desc: dict[str, Any], error: str) -> None:
    assert desc["status"] == "FAILED" and desc["error"] == "ThumbnailsFailed", desc.get("cause")
    assert error in desc["cause"]
    alerts = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
    assert len(alerts) == 1 and alerts[0]["error"] == "ThumbnailsFailed"
    assert "WaitStateEntered" in {e["type"] for e in cloud.history(arn)}  # the retry pass ran


def test_render_over_memory_size_ends_as_runtime_out_of_memory(templates: Callable[..., Path]) -> None:
    with LocalCloud(templates(resize_limits(128, 120)), time_scale=TIME_SCALE, log=Lines()) as cloud:
        body = images.save(images.photo(5000, 4000), "PNG")  # 20 MP: 60 MB decoded, no draft mode
        arn, desc, resize = run_one(cloud, "limits/big.png", body)
        failed = failed_tasks(cloud, arn)
        assert_ends_thumbnails_failed(cloud, arn, desc, "Runtime.OutOfMemory")
    assert [f["error"] for f in failed] == ["Runtime.OutOfMemory"] * len(resize) and resize
    assert all(i.error == "Runtime.OutOfMemory" and i.peak_rss_mb > 128 for i in resize), resize
    for detail, invocation in zip(failed, resize, strict=True):
        message = f"RequestId: {invocation.request_id} Error: Runtime exited with error: signal: killed"
        assert json.loads(detail["cause"]) == {"errorType": "Runtime.OutOfMemory", "errorMessage": message}
    record("Limits", "Resize over its MemorySize (128 MB, a 20 MP PNG)",
           "worker killed; Runtime.OutOfMemory as Lambda reports it; not retried, retry pass, "
           "FAILED ThumbnailsFailed, one alert",
           f"{len(resize)} x {', '.join(sorted({str(i.error) for i in resize}))} "
           f"({sum(i.peak_rss_mb > 128 for i in resize)} peaked over 128 MB); "
           f"{desc['status']} {desc['error']}")


def test_cpu_bound_render_below_a_full_vcpu_ends_as_sandbox_timedout(templates: Callable[..., Path]) -> None:
    """At 128 MB Lambda gives 128/1769 of a vCPU: a render of a few tenths of a second of CPU
    here takes over a second there, past a 1 s Timeout, though its wall time here is shorter."""
    with LocalCloud(templates(resize_limits(128, 1)), time_scale=TIME_SCALE, log=Lines()) as cloud:
        arn, desc, resize = run_one(cloud, "limits/slow.jpg", images.jpeg(4000, 3000))
        failed = failed_tasks(cloud, arn)
        assert_ends_thumbnails_failed(cloud, arn, desc, "Sandbox.Timedout")
    assert resize and all(i.error == "Sandbox.Timedout" for i in resize), resize
    assert all(i.cpu_seconds * FULL_VCPU_MB / 128 > 1.0 > i.seconds for i in resize), resize
    for detail, invocation in zip(failed, resize, strict=True):
        assert detail["error"] == "Sandbox.Timedout"
        assert json.loads(detail["cause"]) == {"errorType": "Sandbox.Timedout", "errorMessage":
                                              f"RequestId: {invocation.request_id} Error: Task timed out "
                                              "after 1.00 seconds"}
    record("Limits", "Resize CPU-bound past its Timeout at 128 MB (CPU counted 1769/128 times)",
           "worker killed; Sandbox.Timedout; retry pass, FAILED ThumbnailsFailed, one alert",
           f"{len(resize)} x {', '.join(sorted({str(i.error) for i in resize}))}; "
           f"{desc['status']} {desc['error']}")


def test_each_worker_has_its_functions_environment_only(templates: Callable[..., Path]) -> None:
    """Validate gets a service name of its own (a variable the Globals also set): each worker sees
    its function's value, only its function's variables, and Lambda's own variables."""
    def edit(template: dict[str, Any]) -> None:
        props = template["Resources"]["ValidateFunction"]["Properties"]
        props.setdefault("Environment", {}).setdefault("Variables", {})["POWERTOOLS_SERVICE_NAME"] = (
            "thumbflow-validate")

    lines = Lines()
    with LocalCloud(templates(edit), time_scale=TIME_SCALE, log=lines) as cloud:
        envs = {fn: cloud.lambdas.inspect(fn)["env"] for fn in cloud.deployed.functions}
        _, desc, _ = run_one(cloud, "env/photo.jpg", images.jpeg(300, 200))
        specs = dict(cloud.deployed.functions)
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert envs["ValidateFunction"]["POWERTOOLS_SERVICE_NAME"] == "thumbflow-validate"
    assert envs["ResizeFunction"]["POWERTOOLS_SERVICE_NAME"] == "thumbflow"
    assert "ON_DEMAND_SIZES" in envs["OnDemandFunction"]
    assert all("ON_DEMAND_SIZES" not in env for fn, env in envs.items() if fn != "OnDemandFunction")
    for fn, env in envs.items():
        spec = specs[fn]
        assert env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name
        assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(spec.memory_mb)
        assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
        assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
        assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.13"
        assert env["LAMBDA_TASK_ROOT"] == str(spec.code_dir)
        assert env["POWERTOOLS_TRACE_DISABLED"] == "true"
        assert env["SOURCE_BUCKET"] == cloud.deployed.source_bucket
        assert not {"PYTEST_CURRENT_TEST", "VIRTUAL_ENV"} & set(env), "the test process's variables leaked"
    assert "AWS_LAMBDA_FUNCTION_NAME" not in os.environ
    services = {(r["function_name"], r["service"]) for r in lines.records() if "function_name" in r}
    assert (specs["ValidateFunction"].name, "thumbflow-validate") in services
    assert (specs["ResizeFunction"].name, "thumbflow") in services


def test_reserved_concurrency_throttles_as_lambda_does(templates: Callable[..., Path]) -> None:
    """ValidateFunction with ReservedConcurrentExecutions 1: while one invocation runs, another is
    refused with TooManyRequestsException (Lambda does not queue it), and the definition's Retry
    gets it through once the first is done."""
    def edit(template: dict[str, Any]) -> None:
        template["Resources"]["ValidateFunction"]["Properties"]["ReservedConcurrentExecutions"] = 1

    # Retry waits at 1/20 of their time (50 ms, 100 ms, ...): long enough for the first to finish.
    with LocalCloud(templates(edit), time_scale=0.05, log=Lines()) as cloud:
        second: list[str] = []

        def start_another_while_this_one_runs(request: Request) -> None:
            before = len(cloud.started)
            cloud.upload("reserved/second.jpg", images.jpeg(200, 150))
            second.append(cloud.started[before][0])
            deadline = time.monotonic() + 30
            while not failed_tasks(cloud, second[0]) and time.monotonic() < deadline:
                time.sleep(0.01)

        with cloud.before_request("s3", "GetObject", start_another_while_this_one_runs,
                                  caller="ValidateFunction", times=1):
            _, first, _ = run_one(cloud, "reserved/first.jpg", images.jpeg(200, 150))
        later = cloud.wait(second[0])
        throttled = [f["error"] for f in failed_tasks(cloud, second[0])]
    assert first["status"] == later["status"] == "SUCCEEDED", (first.get("cause"), later.get("cause"))
    assert throttled and set(throttled) == {"Lambda.TooManyRequestsException"}


@pytest.fixture(scope="module")
def full_vcpu(templates: Callable[..., Path]) -> Iterator[LocalCloud]:
    """ResizeFunction at 2048 MB (CPU not stretched) with a 1 s Timeout."""
    with LocalCloud(templates(resize_limits(2048, 1)), time_scale=TIME_SCALE, log=Lines()) as cloud:
        yield cloud


def test_waiting_past_the_timeout_ends_as_sandbox_timedout(full_vcpu: LocalCloud) -> None:
    """Wall time counts too: an S3 read that takes 1.5 s (held on the wire) outlasts the 1 s Timeout."""
    cloud = full_vcpu

    def slow_s3(request: Request) -> None:
        time.sleep(1.5)

    with cloud.before_request("s3", "GetObject", slow_s3, caller="ResizeFunction"):
        arn, desc, resize = run_one(cloud, "limits/waits.jpg", images.jpeg(640, 480))
    assert resize and all(i.error == "Sandbox.Timedout" and i.seconds >= 1.0 for i in resize), resize
    assert all(i.cpu_seconds < 1.0 for i in resize), resize
    assert_ends_thumbnails_failed(cloud, arn, desc, "Sandbox.Timedout")


def test_worker_that_dies_on_its_own_ends_as_runtime_exit_error(full_vcpu: LocalCloud) -> None:
    """A segfault in native code: the worker is gone mid-invocation, Lambda says Runtime.ExitError."""
    cloud = full_vcpu
    cloud.lambdas.recycle("ResizeFunction")

    def crash(request: Request) -> None:
        for pid in cloud.lambdas.worker_pids("ResizeFunction"):
            os.kill(pid, signal.SIGSEGV)

    with cloud.before_request("s3", "GetObject", crash, caller="ResizeFunction", times=1):
        arn, desc, resize = run_one(cloud, "limits/crash.jpg", images.jpeg(320, 240))
    assert resize[0].error == "Runtime.ExitError"
    first = failed_tasks(cloud, arn)[0]
    assert first["error"] == "Runtime.ExitError"
    assert re.fullmatch(r"RequestId: \S+ Error: Runtime exited with error: signal: segmentation fault",
                        json.loads(first["cause"])["errorMessage"])
    # Not retried by the definition either; the retry pass runs in a new worker and succeeds.
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    assert [i.error for i in resize] == ["Runtime.ExitError", None]
    assert resize[1].cold and resize[1].worker_pid != resize[0].worker_pid

