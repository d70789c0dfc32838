"""logsink: handler output in whole lines, and the emulator's logging kept off stderr."""

from __future__ import annotations

import io
import logging
import threading

import pytest

from thumbflow.local.logsink import LogSink, emulator_log


def test_lines_of_concurrent_writers_never_interleave() -> None:
    out = io.StringIO()
    sink = LogSink(out)

    def write(tag: str) -> None:
        for _ in range(200):
            sink.write(f"{tag * 40}\n")

    threads = [threading.Thread(target=write, args=(t,)) for t in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = out.getvalue().splitlines()
    assert len(lines) == 400 and set(lines) == {"a" * 40, "b" * 40}


def test_the_emulators_errors_go_to_the_log_not_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log = io.StringIO()
    interpreter = logging.getLogger("moto.stepfunctions.parser")
    with emulator_log(log):
        interpreter.error("Exception=NoSuchJsonPathError")
    assert "NoSuchJsonPathError" in log.getvalue()
    assert "NoSuchJsonPathError" not in capsys.readouterr().err
    assert logging.getLogger("moto").propagate and not logging.getLogger("moto").handlers  # as it was


def test_an_inner_emulator_log_leaves_the_outer_one_in_force(capsys: pytest.CaptureFixture[str]) -> None:
    outer, inner = io.StringIO(), io.StringIO()
    interpreter = logging.getLogger("moto.stepfunctions.parser")
    with emulator_log(outer):
        with emulator_log(inner):
            interpreter.error("first")
        interpreter.error("second")
    assert "first" in inner.getvalue() and "second" in outer.getvalue() and "second" not in inner.getvalue()
    assert "second" not in capsys.readouterr().err
    assert logging.getLogger("moto").propagate
