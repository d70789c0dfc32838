"""Where the handlers' output goes: a file, a stream, or this process's stdout.

Each Lambda worker sends its output line by line (``worker.LineWriter``); the sink
writes each line whole, one writer at a time, so lines of concurrent invocations never
interleave mid-line. The CLI gives ``.thumbflow/lambda.log`` and keeps stdout for its
own output.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO


class LogSink:
    """Where handler output goes: whole lines, one writer at a time."""

    def __init__(self, target: str | Path | TextIO | None) -> None:
        self._owned: TextIO | None = None
        if isinstance(target, str | Path):
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            self._owned = open(target, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        self._target = self._owned or target
        self._lock = threading.Lock()

    def write(self, line: str) -> None:
        with self._lock:
            stream = self._target if self._target is not None else sys.stdout
            stream.write(line)
            stream.flush()

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


@contextmanager
def emulator_log(stream: TextIO) -> Iterator[None]:
    """moto's logging into ``stream`` rather than stderr: its Step Functions interpreter logs
    every state error a Catch or Choice handles (an ``IsPresent`` on a missing path included)
    at ERROR, which is the execution's history, not news."""
    moto_log = logging.getLogger("moto")
    handler, propagate = logging.StreamHandler(stream), moto_log.propagate
    moto_log.addHandler(handler)
    moto_log.propagate = False
    try:
        yield
    finally:
        moto_log.removeHandler(handler)
        moto_log.propagate = propagate  # as it was: an enclosing emulator_log keeps its own
        handler.close()
