"""CPU, wall time and peak memory; every engine x image x round runs in a fresh subprocess.

The parent calls ``time_case`` / ``rss_case``; each starts ``python -m bench.measure`` (or, for
sharp, ``node bench/node/worker.mjs``) with a JSON job and reads one JSON line back. A fresh
process per job keeps one engine's caches and heap out of another's figures, and makes the
peak RSS that of exactly that job. Each process runs the engine once as a warm-up (first-call
costs such as codec tables and plugin loading are not the work), then ``reps`` timed runs.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .engines import ENGINES, NODE_ENGINES, REPO, Output, specs

NODE_DIR = REPO / "bench" / "node"


ENGINE_PATH = "BENCH_ENGINE_PATH"  # a folder holding another copy of the thumbnailer package
BASELINE_PATH = "BENCH_BASELINE_PATH"  # the copy measured as "before", in the same rounds


def _env(engine: str = "engine") -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(REPO / "functions"), str(REPO)]
    if engine == "before" and env.get(BASELINE_PATH):
        parts.insert(0, env[BASELINE_PATH])  # the engine as it was, to compare a change against
    elif env.get(ENGINE_PATH):
        parts.insert(0, env[ENGINE_PATH])  # e.g. a patched copy of the engine, measured as "engine"
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def node_ready() -> str | None:
    """None when sharp can run, else why not (``make bench`` installs it into bench/node)."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (NODE_DIR / "node_modules" / "sharp").is_dir():
        return "sharp is not installed in bench/node (make bench runs npm ci there)"
    return None


def _command(job: dict[str, Any]) -> list[str]:
    if job["engine"] in NODE_ENGINES:
        return ["node", str(NODE_DIR / "worker.mjs"), json.dumps(job)]
    return [sys.executable, "-m", "bench.measure", json.dumps(job)]


def _spawn(job: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    if job["engine"] in NODE_ENGINES:
        missing = node_ready()
        if missing:
            return {"error": missing}
        job = {**job, "sizes": [{"width": s.width, "height": s.height, "fit": s.fit, "format": s.format,
                                 "quality": s.quality} for s in specs()]}
    proc = subprocess.run(_command(job), cwd=REPO, env=_env(job["engine"]), capture_output=True, text=True,
                          timeout=timeout, check=False)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return json.loads(lines[-1])


def time_case(engine: str, image: Path, out_dir: Path, reps: int) -> dict[str, Any]:
    """CPU and wall ms of ``reps`` runs (all sizes) after a warm-up, in one fresh process."""
    return _spawn({"mode": "time", "engine": engine, "image": str(image), "out": str(out_dir), "reps": reps})


def rss_case(engine: str, image: Path) -> dict[str, Any]:
    """Peak resident memory of one run of one engine on one image, in a fresh process."""
    return _spawn({"mode": "rss", "engine": engine, "image": str(image), "out": "", "reps": 0})


def _peak_mb() -> float:
    """Peak RSS of this process (VmHWM; ru_maxrss where /proc is missing), in MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 1024 / 1024


def _import_for(engine: str) -> None:
    """Load the engine's libraries before the baseline, so the peak is the work, not imports."""
    import PIL.Image  # noqa: F401

    if engine == "pyvips":
        import pyvips  # noqa: F401
    else:
        import thumbnailer.imaging  # noqa: F401


def _worker(job: dict[str, Any]) -> dict[str, Any]:
    engine = ENGINES[job["engine"]]
    _import_for(job["engine"])
    sizes = specs()
    data = Path(job["image"]).read_bytes()
    baseline = _peak_mb()
    outputs: list[Output] = engine(data, sizes)  # warm-up; in a fresh process its peak is the engine's
    peak = _peak_mb()
    if job["mode"] == "rss":
        return {"baseline_mb": baseline, "peak_mb": peak}
    cpu: list[float] = []
    walls: list[float] = []
    for _ in range(job["reps"]):
        w0, t0 = time.perf_counter(), time.process_time()
        outputs = engine(data, sizes)
        cpu.append(time.process_time() - t0)
        walls.append(time.perf_counter() - w0)
    out_dir = Path(job["out"])
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []
    for i, made in enumerate(outputs):
        path = out_dir / f"{i}-{made.width}x{made.height}.{made.format}"
        path.write_bytes(made.body)
        files.append({"path": str(path), "width": made.width, "height": made.height,
                      "format": made.format, "bytes": len(made.body)})
    return {
        "reps": job["reps"],
        "cpu_ms_all": [round(1000 * t, 2) for t in cpu],
        "wall_ms_all": [round(1000 * t, 2) for t in walls],
        "baseline_mb": baseline,
        "peak_mb": peak,
        "outputs": files,
    }


def merge(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the repetitions of several rounds (fresh processes) of one engine x image."""
    good = [r for r in rounds if "error" not in r]
    if not good:
        return rounds[0]
    cpu = [t for r in good for t in r["cpu_ms_all"]]
    walls = [t for r in good for t in r["wall_ms_all"]]
    merged = {
        "rounds": len(good),
        "reps": len(cpu),
        "cpu_ms": statistics.median(cpu),
        "cpu_ms_min": min(cpu),
        "cpu_ms_all": cpu,
        "wall_ms": statistics.median(walls),
        "rss": {"baseline_mb": max(r["baseline_mb"] for r in good),
                "peak_mb": max(r["peak_mb"] for r in good)},
        "outputs": good[-1]["outputs"],
    }
    if "versions" in good[-1]:
        merged["versions"] = good[-1]["versions"]
    return merged


if __name__ == "__main__":
    result = _worker(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(result) + "\n")
