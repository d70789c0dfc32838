"""CPU time, peak memory and output checks; every engine x image runs in a fresh subprocess.

The parent calls ``time_case`` / ``rss_case``; each starts ``python -m bench.measure`` with a
JSON job and reads one JSON line back. A fresh interpreter per job keeps one engine's caches
and heap out of another's figures, and makes ``ru_maxrss`` the peak of exactly that job.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .engines import ENGINES, REPO, Output, specs


def _env() -> dict[str, str]:
    env = dict(os.environ)
    parts = [str(REPO / "functions"), str(REPO)]
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def _spawn(job: dict[str, Any], timeout: float = 300) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.measure", json.dumps(job)],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=timeout, check=False,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    return json.loads(lines[-1])


def time_case(engine: str, image: Path, out_dir: Path, reps: int) -> dict[str, Any]:
    """Median CPU ms for all sizes (and per size where the engine makes them one by one)."""
    return _spawn({"mode": "time", "engine": engine, "image": str(image), "out": str(out_dir), "reps": reps})


def rss_case(engine: str, image: Path) -> dict[str, Any]:
    """Peak resident memory of one run of one engine on one image, in a fresh process."""
    return _spawn({"mode": "rss", "engine": engine, "image": str(image)})


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
    if job["mode"] == "rss":
        baseline = _peak_mb()
        engine(data, sizes)
        return {"baseline_mb": baseline, "peak_mb": _peak_mb()}

    baseline = _peak_mb()
    engine(data, sizes)  # warm-up: first-call costs (plugin init, codec tables) are not the work
    peak = _peak_mb()  # the warm-up is one run in a fresh process: its peak is the engine's peak
    totals: list[float] = []
    walls: list[float] = []
    per_size: list[list[float]] = [[] for _ in sizes]
    outputs: list[Output] = []

    def tick(index: int, seconds: float) -> None:
        per_size[index].append(seconds)

    for _ in range(job["reps"]):
        w0, t0 = time.perf_counter(), time.process_time()
        outputs = engine(data, sizes, tick)
        totals.append(time.process_time() - t0)
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
        "cpu_ms": 1000 * statistics.median(totals),
        "cpu_ms_all": [round(1000 * t, 2) for t in totals],
        "wall_ms_all": [round(1000 * t, 2) for t in walls],
        "per_size_ms_all": [[round(1000 * t, 2) for t in s] for s in per_size],
        "baseline_mb": baseline,
        "peak_mb": peak,
        "outputs": files,
    }


def merge(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Pool the repetitions of several rounds (subprocesses) of one engine x image."""
    good = [r for r in rounds if "error" not in r]
    if not good:
        return rounds[0]
    cpu = [t for r in good for t in r["cpu_ms_all"]]
    walls = [t for r in good for t in r["wall_ms_all"]]
    slots = range(len(good[0]["per_size_ms_all"]))
    per_size = [[t for r in good for t in r["per_size_ms_all"][i]] for i in slots]
    return {
        "rounds": len(good),
        "reps": len(cpu),
        "cpu_ms": statistics.median(cpu),
        "cpu_ms_min": min(cpu),
        "cpu_ms_all": cpu,
        "wall_ms": statistics.median(walls),
        "per_size_ms": [statistics.median(s) if s else None for s in per_size],
        "rss": {"baseline_mb": max(r["baseline_mb"] for r in good),
                "peak_mb": max(r["peak_mb"] for r in good)},
        "outputs": good[-1]["outputs"],
    }


# ---------------------------------------------------------------------------------------------
# output checks (in the parent: one reference per image serves every engine)


def references(image: Path, sizes: list[Any]) -> list[Any]:
    """Per spec, a function (w, h) -> reference image: LANCZOS from the full, upright decode."""
    from PIL import Image, ImageOps

    full = ImageOps.exif_transpose(Image.open(image))
    full.load()

    def make(spec: Any) -> Any:
        def ref(w: int, h: int) -> Any:
            if spec.fit == "cover":
                return ImageOps.fit(full, (w, h), Image.Resampling.LANCZOS)
            return full.resize((w, h), Image.Resampling.LANCZOS)

        return ref

    return [make(s) for s in sizes]


def _flatten(im: Any) -> Any:
    """RGB as seen over mid grey: transparency counts, colour hidden under alpha 0 does not."""
    from PIL import Image

    if im.mode in ("RGBA", "LA", "PA", "P"):
        im = im.convert("RGBA")
        grey = Image.new("RGBA", im.size, (128, 128, 128, 255))
        return Image.alpha_composite(grey, im).convert("RGB")
    return im.convert("RGB")


def mean_abs_diff(a: Any, b: Any) -> float:
    """Mean absolute difference of two same-sized images over RGB, 0..255."""
    from PIL import ImageChops

    diff = ImageChops.difference(_flatten(a), _flatten(b))
    hist = diff.histogram()
    total = sum(v * (i % 256) for i, v in enumerate(hist))
    return total / (diff.width * diff.height * 3)


def check(outputs: list[dict[str, Any]], refs: list[Any], sizes: list[Any],
          portrait: bool, alpha: bool) -> list[dict[str, Any]]:
    """Dimensions, orientation, format and difference from the reference, per size."""
    from PIL import Image

    results = []
    for made, ref_of, spec in zip(outputs, refs, sizes, strict=True):
        im = Image.open(made["path"])
        im.load()
        w, h = im.size
        fits = w <= spec.width and h <= spec.height
        if spec.fit == "cover":
            fits = (w, h) == (spec.width, spec.height)
        elif fits:
            fits = max(w, h) == max(spec.width, spec.height) or min(w, h) == min(spec.width, spec.height)
        upright = spec.fit == "cover" or (h > w) == portrait
        fmt_ok = made["format"] == ("webp" if alpha else "jpeg")
        results.append({
            "size": spec.label, "fit": spec.fit, "width": w, "height": h, "format": made["format"],
            "bytes": made["bytes"], "dims_ok": fits, "orientation_ok": upright, "format_ok": fmt_ok,
            "alpha_kept": (im.mode in ("RGBA", "LA")) if alpha else None,
            "mad": round(mean_abs_diff(im, ref_of(w, h)), 3),
        })
    return results


if __name__ == "__main__":
    result = _worker(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(result) + "\n")
