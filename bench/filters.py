"""The cheapest Pillow pipeline that keeps the quality bound: how fast could the engine be?

For each case, thumbflow's own steps (the decode scale, which image feeds which size) are kept
and only the resampling filter of each step is varied, from the cheapest (box, then bilinear and
Hamming with a support of 1, bicubic 2, Lanczos 3). Largest size first, each step takes the
cheapest filter whose encoded output is still as close to the float LANCZOS reference as the
best peer's output of that size (``bench.quality``, compared at the two decimals the bench
prints), with the sizes before it made their chosen way. That pipeline is timed against the
engine as it is, alternately in one process, and the ratio scales the bench run's thumbflow /
best peer: what no choice of Pillow filters can beat at thumbflow's decode scale (Pillow's JPEG
draft offers 1/1, 1/2, 1/4 and 1/8 only, and the engine already takes the smallest that leaves
every output a reduction). The peers' CPU and MAE come from that run's JSON (``--results``).

    .venv/bin/python -m bench --engines-only --corpus /tmp/corpus      # peers, in the same corpus
    .venv/bin/python -m bench.filters --corpus /tmp/corpus
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from PIL import Image

from . import comparison, corpus, engines, quality

sys.path.insert(0, str(engines.REPO / "functions"))

from thumbnailer.imaging import geometry, pixels

CHEAPEST_FIRST = {
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "hamming": Image.Resampling.HAMMING,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}
REPS = 9


@contextmanager
def filters(choice: dict[int, str]) -> Iterator[None]:
    """Renders inside use ``choice[plan index]`` for those steps (crops stay crops)."""
    steps, known = geometry.steps, dict(pixels._FILTERS)

    def chosen(*args: Any, **kwargs: Any) -> list[geometry.Step]:
        made = steps(*args, **kwargs)
        return [
            dataclasses.replace(s, resample=choice[s.plan.index])
            if s.plan.index in choice and s.resample != "crop"
            else s
            for s in made
        ]

    geometry.steps = chosen
    pixels._FILTERS.update(CHEAPEST_FIRST)
    try:
        yield
    finally:
        geometry.steps = steps
        pixels._FILTERS.clear()
        pixels._FILTERS.update(known)


def engine_steps(data: bytes, sizes: list[Any]) -> list[geometry.Step]:
    """The steps thumbflow takes for this image, largest first (the placeholder's included)."""
    seen: list[list[geometry.Step]] = []
    steps = geometry.steps

    def spy(*args: Any, **kwargs: Any) -> list[geometry.Step]:
        seen.append(steps(*args, **kwargs))
        return seen[-1]

    geometry.steps = spy
    try:
        engines.engine(data, sizes)
    finally:
        geometry.steps = steps
    return seen[-1]


def maes(data: bytes, sizes: list[Any], ref: quality.Reference) -> list[float]:
    """Each output's MAE from the reference, rounded as the bench judges it."""
    out = []
    for index, (made, spec) in enumerate(zip(engines.engine(data, sizes), sizes, strict=True)):
        im = Image.open(io.BytesIO(made.body))
        im.load()
        out.append(round(quality.mean_abs_diff(quality.planes(im), ref.of(index, spec.fit, *im.size)), 2))
    return out


def cheapest(data: bytes, sizes: list[Any], ref: quality.Reference, bound: list[float]) -> dict[int, str]:
    """Per step, largest first, the cheapest filter whose output keeps its size within ``bound``."""
    choice: dict[int, str] = {}
    for step in engine_steps(data, sizes):
        index = step.plan.index
        if step.resample == "crop" or index >= len(sizes):  # the placeholder: not judged
            continue
        for name in CHEAPEST_FIRST:
            with filters({**choice, index: name}):
                if maes(data, sizes, ref)[index] <= bound[index]:
                    choice[index] = name
                    break
        else:
            choice[index] = step.resample
    return choice


def alternate(runs: dict[str, Callable[[], object]], reps: int = REPS) -> dict[str, float]:
    """Median CPU ms of each run, the runs taken in turn so drifting load hits them alike."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(reps):
        for name, run in runs.items():
            start = time.process_time()
            run()
            times[name].append((time.process_time() - start) * 1000)
    return {name: statistics.median(t) for name, t in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="the corpus folder of the bench run")
    parser.add_argument("--results", type=Path, default=engines.REPO / "bench" / "results" / "latest.json")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all in --results)")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text(encoding="utf-8"))
    wanted = {n for n in args.cases.split(",") if n} or set(results["checks"])
    sizes = engines.specs()
    cases = tuple(c for c in corpus.CASES if c.name in wanted and c.timed)
    paths = corpus.build(args.corpus, cases, reuse=True)
    print("| case | limit | thumbflow / best peer (bench run) | cheapest passing filters, largest size first "
          "| thumbflow ms here | theirs ms here | theirs / best peer |")
    print("|---|---:|---:|---|---:|---:|---:|")
    for case, path in paths.items():
        peer = comparison.best_peer(results, case)
        if peer is None:
            continue
        ratio = comparison.judge(results, case)["cpu"]
        bound = [round(c["mad"], 2) for c in results["checks"][case][peer]]
        data, ref = path.read_bytes(), quality.Reference(path)
        choice = cheapest(data, sizes, ref, bound)

        def fastest(choice: dict[int, str] = choice, data: bytes = data) -> object:
            with filters(choice):
                return engines.engine(data, sizes)

        ms = alternate({"engine": lambda data=data: engines.engine(data, sizes), "cheapest": fastest})
        limit = comparison.CPU_LIMIT[results["corpus"][case]["family"]]
        names = " / ".join(choice.get(i, "crop") for i in engines.largest_first(sizes))
        # Timed here in one process, against the engine in the same loop; scaled to the bench
        # run's fresh-process ratio, so the last column is comparable with its table.
        print(f"| {case} | {limit:.2f} | {ratio:.2f} ({peer}) | {names} | {ms['engine']:.0f} "
              f"| {ms['cheapest']:.0f} | {ratio * ms['cheapest'] / ms['engine']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
