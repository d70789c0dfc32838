"""What a smart crop and the placeholder cost inside a real render, per case.

Each case runs in a fresh process (``python -m bench.smartcrop --worker IMAGE``, the engine on
the same path as the timed runs): the Configure sizes are rendered with every cover size made
``smart``, and ``attention.interest`` (the scores, on the decoded working image) and
``placeholder.of`` (BlurHash and colour of the 32-px rendition) are timed where the engine
calls them, with the working image's size. The whole render is timed with and without
``smart`` in alternation, so the difference is the crop's cost as the workflow pays it.

``python -m bench.smartcrop`` alone builds a few corpus cases in a temporary folder and prints
the table (``make bench`` runs the same measurement on every timed case).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from .engines import MAX_PIXELS, REPO, specs
from .measure import _env

REPS = 15
QUICK_CASES = "jpeg-2mp,jpeg-12mp,jpeg-12mp-exif6,jpeg-24mp,png-12mp-rgba"


def _timed(calls: list[dict[str, Any]], fn: Any) -> Any:
    def wrapper(im: Any, *args: Any) -> Any:
        t0 = time.process_time()
        out = fn(im, *args)
        calls.append({"ms": (time.process_time() - t0) * 1000, "size": list(im.size)})
        return out

    return wrapper


def _worker(image: str, reps: int = REPS) -> dict[str, Any]:
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
    for _ in range(reps):
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


def measure(paths: dict[str, Path], cases: list[str], reps: int = REPS) -> dict[str, Any]:
    """Per case: the scores' and the placeholder's CPU ms, and the render with and without smart."""
    out: dict[str, Any] = {}
    for case in cases:
        command = [sys.executable, "-m", "bench.smartcrop", "--worker", str(paths[case]), "--reps", str(reps)]
        proc = subprocess.run(command, cwd=REPO,
                              env=_env(), capture_output=True, text=True, timeout=600, check=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
        out[case] = json.loads(lines[-1]) if proc.returncode == 0 and lines else {
            "error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return out


def markdown(found: dict[str, Any], reps: int = REPS) -> list[str]:
    """The report's lines: one row per case."""
    lines = ["Smart crop and placeholder, inside a real render of the Configure sizes with the 128x128 "
             f"cover size `gravity: smart` (CPU ms, median of {reps}, fresh process per case): the attention "
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.smartcrop", description=__doc__.splitlines()[0])
    parser.add_argument("--worker", metavar="IMAGE", help="measure one image and print its JSON (internal)")
    parser.add_argument("--cases", default=QUICK_CASES, help=f"corpus cases, comma separated ({QUICK_CASES})")
    parser.add_argument("--reps", type=int, default=5, help="renders per case and variant (make bench: 15)")
    args = parser.parse_args(argv)
    if args.worker:
        sys.stdout.write(json.dumps(_worker(args.worker, args.reps)) + "\n")
        return
    from . import corpus

    wanted = [n for n in args.cases.split(",") if n]
    cases = tuple(c for c in corpus.CASES if c.name in wanted)
    with tempfile.TemporaryDirectory(prefix="thumbflow-smartcrop-") as tmp:
        paths = corpus.build(Path(tmp), cases)
        found = measure(paths, [c.name for c in cases], args.reps)
    print("\n".join(markdown(found, args.reps)))


if __name__ == "__main__":
    main()
