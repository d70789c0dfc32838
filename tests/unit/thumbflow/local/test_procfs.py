"""Reading a process's memory and CPU from /proc, on this test process itself."""

from __future__ import annotations

import os

from thumbflow.local import procfs


def test_rss_peak_and_its_reset() -> None:
    pid = os.getpid()
    before = procfs.rss_bytes(pid)
    block = bytearray(64 * procfs.MIB)
    for i in range(0, len(block), 4096):
        block[i] = 1  # touch every page: resident now
    assert procfs.rss_bytes(pid) >= before + 60 * procfs.MIB
    del block
    peak = procfs.peak_rss_bytes(pid)
    assert peak >= before + 60 * procfs.MIB
    if procfs.reset_peak(pid):
        assert procfs.peak_rss_bytes(pid) < peak - 30 * procfs.MIB


def test_cpu_seconds_grow_with_work() -> None:
    pid = os.getpid()
    start = procfs.cpu_seconds(pid)
    total = 0
    while procfs.cpu_seconds(pid) - start < 0.05:
        total += sum(range(10_000))
    assert total > 0


def test_a_process_that_is_gone_reads_as_nothing() -> None:
    gone = 2**22 + 12345  # above the default pid_max
    assert procfs.rss_bytes(gone) == 0 and procfs.peak_rss_bytes(gone) == 0
    assert procfs.cpu_seconds(gone) == 0.0
    assert procfs.reset_peak(gone) is False
