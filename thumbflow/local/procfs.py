"""What Linux tells about a process: resident memory, its peak, CPU time.

Lambda's memory limit counts everything the execution environment keeps resident
(the interpreter, the SDK, Pillow and the handler), so local mode reads the
worker's RSS from /proc. The peak (VmHWM) can be reset by writing 5 to
/proc/PID/clear_refs, which lets each invocation have a peak of its own.
"""

from __future__ import annotations

import os

_TICKS = os.sysconf("SC_CLK_TCK")
MIB = 1024 * 1024


def _status(pid: int) -> dict[str, str]:
    fields: dict[str, str] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            name, _, value = line.partition(":")
            fields[name] = value.strip()
    return fields


def _kib(value: str) -> int:
    return int(value.split()[0]) * 1024 if value else 0


def rss_bytes(pid: int) -> int:
    """Resident set size now (0 once the process is gone)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, IndexError, ValueError):
        return 0


def peak_rss_bytes(pid: int) -> int:
    """Peak resident set size (VmHWM) since the process started or the peak was reset."""
    try:
        return _kib(_status(pid).get("VmHWM", ""))
    except OSError:
        return 0


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, IndexError, ValueError):
        return 0.0
