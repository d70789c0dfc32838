"""The watcher kills a process past its memory or its time, as Lambda kills a function's sandbox."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from thumbflow.local.limits import FULL_VCPU_MB, Running, Watcher, charged_seconds


@pytest.mark.parametrize(("wall", "cpu", "memory", "charged"), [
    (0.5, 0.4, 128, 0.4 * 1769 / 128),  # CPU-bound at 128 MB: 13.8 times the CPU
    (1.0, 0.1, 128, 0.1 * 1769 / 128),  # mostly waiting, but the stretched CPU outlasts the wall time
    (2.0, 0.01, 128, 2.0),  # waiting dominates
    (0.5, 0.4, FULL_VCPU_MB, 0.5),  # a full vCPU: wall time only
    (0.5, 0.9, 3008, 0.5),  # more than one vCPU: never faster than wall time here
])
def test_charged_seconds(wall: float, cpu: float, memory: int, charged: float) -> None:
    assert charged_seconds(wall, cpu, memory) == pytest.approx(charged)


def child(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def watched_until_dead(process: subprocess.Popen[bytes], memory_mb: int, timeout_s: float) -> Running:
    watcher = Watcher()
    running = watcher.watch(process.pid, memory_mb, timeout_s)
    try:
        process.wait(timeout=20)
    finally:
        watcher.release(running)
        watcher.stop()
    return running


def test_a_process_past_its_memory_is_killed() -> None:
    process = child("import time\nb = bytearray(300 * 1024 * 1024)\nb[::4096] = b'x' * len(b[::4096])\n"
                    "time.sleep(30)")
    running = watched_until_dead(process, memory_mb=100, timeout_s=30)
    assert running.verdict == "memory" and process.returncode == -9
    assert running.peak > 100 * 1024 * 1024


def test_a_process_past_its_time_is_killed() -> None:
    started = time.perf_counter()
    running = watched_until_dead(child("import time\ntime.sleep(30)"), memory_mb=FULL_VCPU_MB, timeout_s=0.3)
    assert running.verdict == "time" and 0.3 <= time.perf_counter() - started < 5


def test_cpu_counts_more_below_a_full_vcpu() -> None:
    """0.1 s of CPU at 128 MB is 1.4 s of Lambda's time: past a 1 s timeout well before 1 s here."""
    started = time.perf_counter()
    running = watched_until_dead(child("while True: pass"), memory_mb=128, timeout_s=1.0)
    assert running.verdict == "time" and time.perf_counter() - started < 0.9
    assert running.cpu * FULL_VCPU_MB / 128 > 1.0
