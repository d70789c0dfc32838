"""Cold start: how long importing (and so initialising) each handler module takes.

Each measurement is a fresh interpreter with ``PYTHONPATH=functions`` and the environment
the handlers need, timing ``import thumbnailer.<module>`` (module-level Logger/Tracer/Metrics
and everything they pull in). The lazily built S3 client (``storage.s3()``), which the first
invocation pays, is timed separately, as is the bare interpreter start.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

from .engines import REPO

MODULES = ("validate", "resize", "flag", "ondemand")

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import importlib
importlib.import_module("thumbnailer." + sys.argv[1])
t1 = time.perf_counter()
from thumbnailer import storage
storage.s3()
t2 = time.perf_counter()
rss = 0
for line in open("/proc/self/status"):
    if line.startswith("VmHWM:"):
        rss = int(line.split()[1]) / 1024
print(json.dumps({"import_s": t1 - t0, "client_s": t2 - t1, "rss_mb": rss}))
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA", "POWERTOOLS"))}
    env.update({
        "PYTHONPATH": str(REPO / "functions"),
        "SOURCE_BUCKET": "bench-source",
        "THUMBNAIL_BUCKET": "bench-thumbnails",
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", "us-east-1"),
    })
    return env


def _once(module: str) -> dict[str, Any]:
    w0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _PROBE, module], env=_env(), cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    wall = time.perf_counter() - w0
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["?"])[-1]}
    return {**json.loads(proc.stdout.strip().splitlines()[-1]), "process_s": wall}


def interpreter_start(reps: int = 5) -> float:
    """Median wall seconds of ``python -c pass``: what every figure below sits on top of."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(reps: int = 5) -> dict[str, Any]:
    """Median import seconds per handler module that exists."""
    out: dict[str, Any] = {"interpreter_start_s": interpreter_start(reps), "modules": {}}
    for name in MODULES:
        if not (REPO / "functions" / "thumbnailer" / f"{name}.py").exists():
            continue
        runs = [_once(name) for _ in range(reps)]
        good = [r for r in runs if "error" not in r]
        if not good:
            out["modules"][name] = {"error": runs[0]["error"]}
            continue
        out["modules"][name] = {
            "import_s": statistics.median(r["import_s"] for r in good),
            "client_s": statistics.median(r["client_s"] for r in good),
            "process_s": statistics.median(r["process_s"] for r in good),
            "rss_mb": statistics.median(r["rss_mb"] for r in good),
            "runs": len(good),
        }
    return out
