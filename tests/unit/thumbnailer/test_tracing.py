"""The handlers' Tracer: X-Ray exactly when Powertools would trace, and nothing paid otherwise."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from aws_lambda_powertools import Tracer
from thumbnailer import tracing

from tests.unit.conftest import REPO


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "Yes"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "0"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"}, False),
        ({}, False),
    ],
    ids=["lambda", "disabled", "disabled-yes", "not-disabled", "zero", "sam-local", "chalice", "outside"],
)
def test_tracing_follows_powertools_rules(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                          on: bool) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing.enabled() is on
    assert (tracing.provider() is None) is on  # None: Powertools' own X-Ray provider
    assert tracing.enabled() is not Tracer._is_tracer_disabled()  # Powertools' own rule agrees


def test_the_null_provider_records_nothing_and_gets_in_no_ones_way() -> None:
    provider = tracing.NoTracing()
    with provider.in_subsegment("work") as segment:
        segment.put_annotation("k", "v")
        segment.put_metadata("k", {"v": 1})
        segment.add_exception(ValueError("x"), None)

    async def inside() -> str:
        async with provider.in_subsegment_async("work") as segment:
            segment.put_annotation("k", "v")
            return "ran"

    assert asyncio.run(inside()) == "ran"
    provider.patch(["botocore"])
    provider.patch_all()
    assert tracing.PATCH_MODULES == ("botocore",)


def test_handlers_do_not_import_xray_when_tracing_is_off() -> None:
    """In a fresh interpreter with tracing off, importing every handler leaves the X-Ray SDK core
    (its recorder, patcher and client: the cold-start cost) unloaded, and a traced function still runs."""
    code = (
        "import sys; sys.path.insert(0, 'functions');"
        "import thumbnailer.validate, thumbnailer.resize, thumbnailer.flag, thumbnailer.ondemand;"
        "from thumbnailer.observability import tracer;"
        "f = tracer.capture_method(lambda x: x + 1); assert f(1) == 2;"
        "print('aws_xray_sdk.core' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"
