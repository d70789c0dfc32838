"""Lambda's MemorySize and Timeout, enforced on running workers by one watcher thread.

Every few milliseconds the watcher reads each running invocation's worker from /proc:
its RSS against MemorySize, and its time against Timeout. Below 1,769 MB Lambda gives
a function MemorySize/1769 of a vCPU, so CPU-bound work takes longer there than here:
an invocation counts as timed out when its wall time, or its CPU time scaled by
1769/MemorySize, passes the Timeout. A worker past either limit is killed (SIGKILL, as
Lambda does); the thread supervising the invocation then sees the channel close and
reports what the watcher decided. One thread for all invocations keeps the cost flat
however many run at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from dataclasses import dataclass, field

from . import procfs

FULL_VCPU_MB = 1769  # Lambda's memory size with one full vCPU
POLL_SECONDS = 0.005  # memory: every 5 ms
TIME_EVERY = 4  # time (a second /proc read): every 4th check, 20 ms


def charged_seconds(wall: float, cpu: float, memory_mb: int) -> float:
    """The time Lambda would have taken: CPU stretches below a full vCPU."""
    if memory_mb < FULL_VCPU_MB:
        return max(wall, cpu * FULL_VCPU_MB / memory_mb)
    return wall


@dataclass
class Running:
    """One invocation under watch."""

    pid: int
    memory_mb: int
    timeout_s: float
    started: float = field(default_factory=time.perf_counter)
    cpu_at_start: float = 0.0
    peak: int = 0
    cpu: float = 0.0
    verdict: str | None = None  # "memory" or "time" once the watcher killed it

    def check(self, with_time: bool = True) -> None:
        rss = procfs.rss_bytes(self.pid)
        self.peak = max(self.peak, rss)
        if rss > self.memory_mb * procfs.MIB:
            self._kill("memory")
            return
        if with_time:
            self.cpu = max(self.cpu, procfs.cpu_seconds(self.pid) - self.cpu_at_start)
            if charged_seconds(time.perf_counter() - self.started, self.cpu, self.memory_mb) > self.timeout_s:
                self._kill("time")

    def _kill(self, verdict: str) -> None:
        self.verdict = verdict
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)


class Watcher:
    """The one thread that checks every running invocation; started on first use."""

    def __init__(self) -> None:
        self._running: dict[int, Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def watch(self, pid: int, memory_mb: int, timeout_s: float) -> Running:
        procfs.reset_peak(pid)
        running = Running(pid, memory_mb, timeout_s, cpu_at_start=procfs.cpu_seconds(pid),
                          peak=procfs.rss_bytes(pid))
        with self._lock:
            self._running[pid] = running
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="thumbflow-lambda-limits",
                                                daemon=True)
                self._thread.start()
        return running

    def release(self, running: Running) -> None:
        with self._lock:
            if self._running.get(running.pid) is running:
                del self._running[running.pid]

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        tick = 0
        while not self._stop.wait(POLL_SECONDS):
            tick += 1
            with self._lock:
                running = [r for r in self._running.values() if r.verdict is None]
            for invocation in running:
                invocation.check(with_time=tick % TIME_EVERY == 0)
