"""Local mode end to end: N distinct 12 MP JPEGs through LocalCloud + runner.run.

Every handler runs in a Lambda worker process of its function, so CPU splits in two:
this process (the interpreter, the event rule, moto serving every request, the uploads
and the polling) and the workers (``Invocation.cpu_seconds``, the handlers' own CPU).

Figures:

* ``images_per_s``  N / wall, wall = runner.run from the first upload to the last execution's end.
* ``handler_sum_s`` sum of ``cloud.lambdas.invocations[*].seconds``: each invocation's own
  span, added up over every function and execution. Executions run in parallel, so this
  sum can exceed the wall time.
* ``outside_share`` 1 - handler_sum_s / wall, as first defined. Because of the overlap
  it understates orchestration, so more figures are reported:
* ``busy_s``        the union of the invocation intervals (time in which at least one handler was
  running), from each invocation's start and duration; and ``outside_share_union`` =
  1 - busy_s / wall, the share of wall time with no handler running;
* ``outside_share_cpu`` = this process's CPU / (this process's CPU + the workers' handler CPU):
  the share of all CPU spent outside handlers; and ``orchestration_share_cpu``, the same
  without the driver thread (the uploads themselves, which moto stores with checksums, and
  the polling for results): the interpreter, the event rule, moto answering the handlers'
  requests and the worker channels;
* ``workers``, ``spawn_ms`` (median start of a worker: fork + handler import) and each
  function's ``peak_rss_mb``.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from . import corpus


def _union(intervals: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def run(count: int, workers: int = 2) -> dict[str, Any]:
    from thumbflow import runner
    from thumbflow.local.cloud import LocalCloud
    from thumbflow.local.logsink import emulator_log

    with tempfile.TemporaryDirectory(prefix="thumbflow-bench-local-") as tmp:
        folder = Path(tmp) / "uploads"
        g0 = time.perf_counter()
        corpus.local_set(folder, count, workers)
        generated_s = time.perf_counter() - g0

        # Handlers log JSON lines (their workers' stdout); keep them out of the report.
        with open(os.devnull, "w") as sink, emulator_log(sink), LocalCloud(time_scale=1.0, log=sink) as cloud:
            c0, w0, d0 = time.process_time(), time.perf_counter(), time.thread_time()
            results = runner.run(cloud, [folder], None)
            wall = time.perf_counter() - w0
            cpu = time.process_time() - c0  # this process only: the workers are processes of their own
            driver_cpu = time.thread_time() - d0  # this thread: the uploads (moto storing them), polling
            invocations = list(cloud.lambdas.invocations)
            spawn = list(cloud.lambdas.spawn_seconds)

    by_function: dict[str, dict[str, float]] = {}
    for name in sorted({i.function for i in invocations}):
        secs = [i.seconds for i in invocations if i.function == name]
        by_function[name] = {"count": len(secs), "sum_s": sum(secs), "median_s": statistics.median(secs)}
    handler_sum = sum(i.seconds for i in invocations)
    busy = _union([(i.started, i.started + i.seconds) for i in invocations if i.started >= w0])
    handler_cpu = sum(i.cpu_seconds for i in invocations)
    return {
        "images": count,
        "generated_s": generated_s,
        "wall_s": wall,
        "process_cpu_s": cpu,
        "images_per_s": count / wall,
        "statuses": dict(Counter(r.status for r in results)),
        "thumbnails": sum(len(r.thumbnails) for r in results),
        "invocations": len(invocations),
        "errors": sum(1 for i in invocations if i.error),
        "by_function": by_function,
        "handler_sum_s": handler_sum,
        "outside_share": 1 - handler_sum / wall,
        "busy_s": busy,
        "outside_share_union": 1 - busy / wall,
        "handler_cpu_s": handler_cpu,
        "outside_share_cpu": cpu / (cpu + handler_cpu) if cpu + handler_cpu else None,
        "driver_cpu_s": driver_cpu,
        "orchestration_share_cpu": (cpu - driver_cpu) / (cpu + handler_cpu) if cpu + handler_cpu else None,
        "workers": len(spawn),
        "spawn_ms": statistics.median(spawn) * 1000 if spawn else None,
        "peak_rss_mb": {name: max(i.peak_rss_mb for i in invocations if i.function == name)
                        for name in by_function},
    }


def cost(count: int, workers: int = 2) -> dict[str, Any]:
    """`thumbflow cost` on ``count`` distinct 12 MP JPEGs: dollars per million images, both types."""
    from thumbflow import cost as costing
    from thumbflow.local.cloud import LocalCloud
    from thumbflow.local.logsink import emulator_log
    from thumbflow.runner import collect_uploads

    prices = costing.load_prices()
    with tempfile.TemporaryDirectory(prefix="thumbflow-bench-cost-") as tmp:
        folder = Path(tmp) / "uploads"
        corpus.local_set(folder, count, workers)
        with open(os.devnull, "w") as sink, emulator_log(sink):
            log = costing.CountingLog(sink)
            with LocalCloud(time_scale=1.0, log=log) as cloud:
                usage = costing.run_one_at_a_time(cloud, collect_uploads([folder]), log, prices)
    lines = costing.bill(usage, prices)
    return {
        "images": count,
        "usage": usage.to_dict(),
        "totals": costing.totals(lines),
        "lines": [vars(line) for line in lines],
        "prices_as_of": prices["as_of"],
    }


# ------------------------------------------------------------- thumbflow run vs the seed's method
SEED_LOOP = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench import engines
sizes = engines.specs()
out = Path(sys.argv[2])
for path in sorted(Path(sys.argv[3]).glob("*.jpg")):
    for i, made in enumerate(engines.simple(path.read_bytes(), sizes)):
        (out / f"{path.stem}-{i}.{made.format}").write_bytes(made.body)
"""


def _wall(command: list[str], cwd: Path) -> float:
    import subprocess

    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "functions")})
    return time.perf_counter() - started


def versus_seed(count: int = 8, size: tuple[int, int] = (4608, 3456), rounds: int = 3,
                folder: Path | None = None) -> dict[str, Any]:
    """``thumbflow run`` of ``count`` distinct JPEGs of ``size`` (a fresh process, local mode
    deployed from nothing) against the seed's method on the same files in one plain Python
    process: per size reopen the bytes, ``Image.thumbnail``, save (``engines.simple``). Both are
    whole processes timed from outside, in alternating rounds; the ratio is thumbflow / seed."""
    import sys

    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="thumbflow-bench-seed-") as tmp:
        images = folder or Path(tmp) / "uploads"
        cases = tuple(corpus.Case(f"seed-{i:02d}", size, "jpeg", 2000 + i) for i in range(count))
        corpus.build(images, cases, reuse=True)
        run_s, seed_s = [], []
        for n in range(rounds):
            out = Path(tmp) / f"out-{n}"
            out.mkdir()
            run_s.append(_wall([sys.executable, "-m", "thumbflow.cli", "run", str(images), "--out",
                                str(out / "run"), "--fresh", "--state", str(out / "state")], repo))
            (out / "seed").mkdir()
            seed_s.append(_wall([sys.executable, "-c", SEED_LOOP, str(repo), str(out / "seed"), str(images)],
                                repo))
    ratios = [r / s for r, s in zip(run_s, seed_s, strict=True)]
    return {"images": count, "megapixels": size[0] * size[1] / 1e6, "rounds": rounds,
            "thumbflow_run_s": statistics.median(run_s), "seed_loop_s": statistics.median(seed_s),
            "ratio": statistics.median(ratios), "runs": {"thumbflow_run_s": run_s, "seed_loop_s": seed_s}}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m bench.localrun", description=versus_seed.__doc__)
    parser.add_argument("--versus-seed", type=int, default=8, metavar="N", help="images (default 8)")
    parser.add_argument("--megapixels", type=int, default=16, choices=(12, 16, 24))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=None, help="keep the images here between runs")
    args = parser.parse_args()
    dims = {12: (4000, 3000), 16: (4608, 3456), 24: (6000, 4000)}[args.megapixels]
    print(json.dumps(versus_seed(args.versus_seed, dims, args.rounds, args.corpus), indent=2))
