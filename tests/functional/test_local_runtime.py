"""Local mode runs every Lambda invocation in a worker process of its function, as Lambda does.

One invocation at a time per worker, each function's workers with their own environment,
module state and Powertools logger and metrics; idle workers are reused (warm starts).
What the handlers write reaches the log whole, each line with its own invocation's context.
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, Lines
from tests.functional.drills import gate, window
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.wire import DRIVER, EVENTS, STATES, UNATTRIBUTED
from thumbflow.serve import RESIZER, function_url_event


@pytest.fixture(scope="module")
def logged() -> Iterator[tuple[LocalCloud, Lines]]:
    lines = Lines()
    with LocalCloud(time_scale=TIME_SCALE, log=lines) as cloud:
        yield cloud, lines


def upload_and_start(cloud: LocalCloud, key: str, body: bytes) -> str:
    before = len(cloud.started)
    cloud.upload(key, body)
    (arn,) = [a for a, ev in cloud.started[before:] if ev["detail"]["object"]["key"] == key]
    return arn


def test_concurrent_invocations_run_in_workers_of_their_own(logged: tuple[LocalCloud, Lines]) -> None:
    """Two executions' Resize invocations are held until both are due, then run at once: in two
    worker processes, each with its own Powertools metrics (the flush of one cannot clear or
    double the other's, as it could when both ran in threads of one process)."""
    cloud, lines = logged
    meet = threading.Barrier(2, timeout=60)
    w = window(cloud)
    first_line = len(lines.lines)
    with gate(cloud, "ResizeFunction", lambda event: meet.wait()):
        arns = [upload_and_start(cloud, f"iso/{n}.jpg", images.jpeg(400 + n, 300)) for n in range(2)]
        descs = [cloud.wait(arn) for arn in arns]
    assert [d["status"] for d in descs] == ["SUCCEEDED", "SUCCEEDED"], [d.get("cause") for d in descs]
    resize = w.invocations("ResizeFunction")
    assert len(resize) == 2 and [i.error for i in resize] == [None, None]
    assert len({i.worker_pid for i in resize}) == 2, "the two ran in one worker"
    assert os.getpid() not in {i.worker_pid for i in resize}
    # Each invocation flushed exactly its own metrics: one EMF document each, with a metric.
    emf = [r for r in Lines.records_of(lines.lines[first_line:]) if "_aws" in r
           and "ThumbnailsWritten" in r]
    assert len(emf) == 2, emf
    assert all(r["ThumbnailsWritten"] == [4.0] for r in emf), emf


def test_each_log_line_carries_only_its_own_invocations_context(logged: tuple[LocalCloud, Lines]) -> None:
    """Five uploads at once: every Powertools line names the request id of an invocation of the
    function it names, and all lines of one request id name one execution and one key, the
    execution that upload started and the key it uploaded."""
    cloud, lines = logged
    first_line = len(lines.lines)
    w = window(cloud)
    keys = [f"ctx/{n}.jpg" for n in range(5)]
    for key in keys:
        cloud.upload(key, images.jpeg(320, 240))
    started = {ev["detail"]["object"]["key"]: arn for arn, ev in cloud.started}
    started = {key: started[key] for key in keys}
    for arn in started.values():
        assert cloud.wait(arn)["status"] == "SUCCEEDED"
    assert all(line.endswith("\n") and line.count("\n") == 1 for line in lines.lines[first_line:])
    invocations = {i.request_id: i for i in w.invocations()}
    records = [r for r in Lines.records_of(lines.lines[first_line:]) if "function_request_id" in r]
    assert records, "no Powertools line was logged"
    contexts: dict[str, set[tuple[str, str]]] = {}
    for record in records:
        invocation = invocations[record["function_request_id"]]
        assert record["function_name"] == cloud.function(invocation.function).name
        assert record["cold_start"] is invocation.cold
        contexts.setdefault(record["function_request_id"], set()).add(
            (record.get("correlation_id", ""), record.get("key", "")))
    assert all(len(pairs) == 1 for pairs in contexts.values()), contexts
    seen = {pair for pairs in contexts.values() for pair in pairs}
    assert seen == {(started[key], key) for key in keys}
    functions = Counter(invocations[rid].function for rid in contexts)
    assert functions == {"ValidateFunction": 5, "ResizeFunction": 5}, functions


def test_idle_workers_are_reused_and_cold_start_is_their_first_invocation(
    logged: tuple[LocalCloud, Lines],
) -> None:
    cloud, lines = logged
    cloud.lambdas.recycle(RESIZER)
    event = function_url_event("/warm/none_200x200.jpg", "GET", {}, "local")
    first_line = len(lines.lines)
    answers = [cloud.invoke(RESIZER, event) for _ in range(3)]
    assert [json.loads(body)["statusCode"] for body, _ in answers] == [404, 404, 404]
    calls = cloud.lambdas.invocations[-3:]
    assert [i.cold for i in calls] == [True, False, False]
    assert len({i.worker_pid for i in calls}) == 1
    assert calls[0].init_seconds > 0 and calls[1].init_seconds == 0
    cold_flags = [r["cold_start"] for r in Lines.records_of(lines.lines[first_line:])
                  if r.get("function_name") == cloud.function(RESIZER).name and "cold_start" in r]
    assert cold_flags and cold_flags[0] is True and not any(cold_flags[1:]), cold_flags
    assert all(i.peak_rss_mb > 20 for i in calls), [i.peak_rss_mb for i in calls]


def test_workers_never_load_the_emulator_and_run_from_their_code_uri(
    logged: tuple[LocalCloud, Lines],
) -> None:
    cloud, _ = logged
    for logical_id, spec in cloud.deployed.functions.items():
        seen = cloud.lambdas.inspect(logical_id)
        assert seen["moto_loaded"] is False, logical_id
        assert seen["sys_path"][0] == str(spec.code_dir) == seen["env"]["LAMBDA_TASK_ROOT"]
        assert seen["cwd"] == str(spec.code_dir)
        assert seen["pid"] != os.getpid()


def test_every_request_names_its_caller(logged: tuple[LocalCloud, Lines]) -> None:
    """Callers come from the worker channel or from the signing key of local mode's own clients:
    after uploads, executions and direct invocations, no request is left unattributed."""
    cloud, _ = logged
    desc = cloud.wait(upload_and_start(cloud, "callers/a.jpg", images.jpeg(200, 150)))
    assert desc["status"] == "SUCCEEDED", desc.get("cause")
    callers = {r.caller for r in cloud.wire.snapshot()}
    assert UNATTRIBUTED not in callers
    assert {DRIVER, STATES, EVENTS, "ValidateFunction", "ResizeFunction"} <= callers
    functions = {r.caller for r in cloud.wire.snapshot() if r.service == "s3"} - {DRIVER}
    assert functions <= set(cloud.deployed.functions), functions
