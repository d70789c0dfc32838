"""How local mode words a worker's end, as Lambda's runtime words it."""

from __future__ import annotations

import json
import signal

import pytest

from thumbflow.local.pool import exit_words, runtime_error


@pytest.mark.parametrize(("status", "words"), [
    (signal.SIGKILL, "signal: killed"),
    (signal.SIGSEGV, "signal: segmentation fault"),
    (signal.SIGABRT, "signal: aborted"),
    (1 << 8, "exit status 1"),
    (129 << 8, "exit status 129"),
    (None, "signal: killed"),
])
def test_exit_words_as_lambda_reports_them(status: int | None, words: str) -> None:
    assert exit_words(status) == words


def test_runtime_errors_name_the_request() -> None:
    body = json.loads(runtime_error("Sandbox.Timedout", "Task timed out after 3.00 seconds", "r-1"))
    assert body == {"errorType": "Sandbox.Timedout",
                    "errorMessage": "RequestId: r-1 Error: Task timed out after 3.00 seconds"}
