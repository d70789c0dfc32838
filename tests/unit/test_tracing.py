"""The handlers' Tracer: X-Ray exactly when Powertools would trace, and nothing paid otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest
from thumbnailer import tracing

from tests.functional.conftest import ROOT


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({"LAMBDA_TASK_ROOT": "/var/task"}, True),
        ({"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"}, False),
        ({}, False),
    ],
    ids=["lambda", "disabled", "sam-local", "outside-lambda"],
)
def test_tracing_follows_powertools_rules(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                          on: bool) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert tracing.enabled() is on
    assert (tracing.provider() is None) is on  # None: Powertools' own X-Ray provider


def test_handlers_do_not_import_xray_when_tracing_is_off() -> None:
    """In a fresh interpreter with tracing off, importing every handler leaves the X-Ray SDK core
    (its recorder, patcher and client: the cold-start cost) unloaded,
    and a traced handler still runs its body."""
    code = (
        "import sys; sys.path.insert(0, 'functions');"
        "import thumbnailer.validate, thumbnailer.resize, thumbnailer.flag, thumbnailer.ondemand;"
        "from thumbnailer.validate import tracer;"
        "f = tracer.capture_method(lambda x: x + 1); assert f(1) == 2;"
        "print('aws_xray_sdk.core' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true", "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=True)
    assert out.stdout.strip() == "False"
