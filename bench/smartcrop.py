"""What a smart crop and the placeholder cost inside a real render, per case.

Each case runs in a fresh process (``python -m bench.smartcrop``, the engine on the same path
as the timed runs): the Configure sizes are rendered with the 128x128 cover size made
``smart``, and ``attention.interest`` (the scores, on the decoded working image) and
``placeholder.of`` (BlurHash and colour of the 32-px rendition) are timed where the engine
calls them, with the working image's size. The whole render is timed with and without
``smart`` in alternation, so the difference is the crop's cost as the workflow pays it.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from .engines import MAX_PIXELS, REPO, specs
from .measure import _env

REPS = 15


def _timed(calls: list[dict[str, Any]], fn: Any) -> Any:
    def wrapper(im: Any, *args: Any) -> Any:
        t0 = time.process_time()
        out = fn(im, *args)
        calls.append({"ms": (time.process_time() - t0) * 1000, "size": list(im.size)})
        return out

    return wrapper


def _worker(image: str) -> dict[str, Any]:
    from thumbnailer import imaging
    from thumbnailer.imaging import attention, placeholder

    data = Path(image).read_bytes()
    centred = specs()
    smart = [replace(s, gravity="smart") if s.fit == "cover" else s for s in centred]
    scores: list[dict[str, Any]] = []
    hints: list[dict[str, Any]] = []
    imaging.attention.interest = _timed(scores, attention.interest)  # type: ignore[attr-defined]
    imaging.placeholders.of = _timed(hints, placeholder.of)  # type: ignore[attr-defined]
    imaging.render(data, smart, max_pixels=MAX_PIXELS)  # warm-up
    scores.clear()
    hints.clear()
    with_smart, without = [], []
    for _ in range(REPS):
        for bucket, sizes in ((with_smart, smart), (without, centred)):
            t0 = time.process_time()
            imaging.render(data, sizes, max_pixels=MAX_PIXELS)
            bucket.append((time.process_time() - t0) * 1000)
    return {
        "working": scores[0]["size"] if scores else None,
        "interest_ms": statistics.median(c["ms"] for c in scores) if scores else None,
        "placeholder_ms": statistics.median(c["ms"] for c in hints) if hints else None,
        "render_smart_ms": statistics.median(with_smart),
        "render_centre_ms": statistics.median(without),
    }


def measure(paths: dict[str, Path], cases: list[str]) -> dict[str, Any]:
    """Per case: the scores' and the placeholder's CPU ms, and the render with and without smart."""
    out: dict[str, Any] = {}
    for case in cases:
        proc = subprocess.run([sys.executable, "-m", "bench.smartcrop", str(paths[case])], cwd=REPO,
                              env=_env(), capture_output=True, text=True, timeout=600, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        out[case] = json.loads(lines[-1]) if proc.returncode == 0 and lines else {
            "error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return out


def markdown(found: dict[str, Any]) -> list[str]:
    """The report's lines: one row per case."""
    lines = ["Smart crop and placeholder, inside a real render of the Configure sizes with the 128x128 "
             f"cover size `gravity: smart` (CPU ms, median of {REPS}, fresh process per case): the attention "
             "scores on the decoded working image, the BlurHash + colour of the 32-px rendition, and the "
             "whole render with and without `smart`:", "",
             "| case | working image | attention ms | placeholder ms | render smart ms | render centre ms "
             "| smart adds |", "|---|---|---:|---:|---:|---:|---:|"]
    for case, f in found.items():
        if "error" in f:
            lines.append(f"| {case} | error: {f['error']} | | | | | |")
            continue
        w, h = f["working"] or (0, 0)
        smart, centre = f["render_smart_ms"], f["render_centre_ms"]
        lines.append(f"| {case} | {w}x{h} ({w * h / 1e6:.1f} MP) | {f['interest_ms']:.2f} "
                     f"| {f['placeholder_ms']:.2f} | {smart:.1f} | {centre:.1f} | {smart - centre:+.1f} |")
    return lines


if __name__ == "__main__":
    sys.stdout.write(json.dumps(_worker(sys.argv[1])) + "\n")
