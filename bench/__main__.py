"""Run the whole benchmark, print the markdown report, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "functions"))  # thumbnailer, as Lambda's CodeUri puts it

from . import coldstart, corpus, localrun, measure, quality, report, smartcrop  # noqa: E402
from .engines import JUDGED, configure, specs  # noqa: E402

RSS_ONLY = ("engine", "sharp", "pyvips", "simple")  # engines whose peak is taken on untimed cases


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="local mode with 10 images instead of 50")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per engine x case (>= 3)")
    parser.add_argument("--reps", type=int, default=2, help="timed runs per process, after one warm-up")
    parser.add_argument("--simple-reps", type=int, default=1, help="timed runs per process of simple Pillow")
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--engines", default="", help="comma-separated contenders to run (default: all)")
    parser.add_argument("--engines-only", action="store_true", help="skip cold start, local mode and cost")
    parser.add_argument("--local-images", type=int, default=None, help="override the local-mode image count")
    parser.add_argument("--cost-images", type=int, default=10, help="12 MP JPEGs priced by `thumbflow cost`")
    parser.add_argument("--corpus", type=Path, default=None,
                        help="keep the corpus in this folder and reuse what is there (default: a temp dir)")
    parser.add_argument("--engine-path", type=Path, default=None,
                        help="folder with another copy of the thumbnailer package to measure as thumbflow")
    parser.add_argument("--baseline-path", type=Path, default=None,
                        help="folder with the thumbnailer package as it was: measured as 'thumbflow "
                             "before' in the same rounds, and compared with thumbflow")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    return parser.parse_args(argv)


def _engines(results: dict[str, Any], paths: dict[str, Path], root: Path, args: argparse.Namespace) -> None:
    """Every timed case: rounds of fresh processes, engines in rotating order; then the checks."""
    sizes = specs()
    wanted = {n for n in args.engines.split(",") if n}
    before = ("before",) if args.baseline_path else ()
    engines = [e for e in (*JUDGED, *before, "simple") if not wanted or e in wanted]
    for case in (c for c in corpus.CASES if c.name in paths):
        path = paths[case.name]
        if not case.timed:
            results["rss"][case.name] = {e: measure.rss_case(e, path) for e in RSS_ONLY if e in engines}
            _log(f"{case.name} peak RSS: " + ", ".join(
                f"{e} {r.get('peak_mb', r.get('error'))}" for e, r in results["rss"][case.name].items()))
            continue
        t0 = time.perf_counter()
        raw: dict[str, list[dict[str, Any]]] = {e: [] for e in engines}
        for r in range(args.rounds):
            for engine in engines[r % len(engines):] + engines[:r % len(engines)]:
                reps = args.simple_reps if engine == "simple" else args.reps
                raw[engine].append(measure.time_case(engine, path, root / "out" / engine / case.name, reps))
        merged = {engine: measure.merge(runs) for engine, runs in raw.items()}
        results["cpu"][case.name] = merged
        results["rss"][case.name] = {e: r.get("rss", r) for e, r in merged.items()}
        _log(f"{case.name}: " + ", ".join(f"{e} {r.get('cpu_ms', r.get('error'))}" for e, r in merged.items())
             + f" ms CPU ({time.perf_counter() - t0:.1f}s)")
        ref = quality.Reference(path)
        results["checks"][case.name] = {
            engine: quality.check(res["outputs"], ref, sizes, portrait=case.kind == "exif6",
                                  alpha=case.kind == "png-rgba")
            for engine, res in merged.items() if "outputs" in res and engine != "floor"
        }
        del ref


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.rounds < 3:
        sys.exit("--rounds must be at least 3")
    started = time.perf_counter()
    if args.engine_path:
        os.environ[measure.ENGINE_PATH] = str(args.engine_path.resolve())
    if args.baseline_path:
        os.environ[measure.BASELINE_PATH] = str(args.baseline_path.resolve())

    from thumbnailer.grouping import group_sizes

    sizes = specs()
    _, group_max = configure()
    wanted = {n for n in args.cases.split(",") if n}
    cases = tuple(c for c in corpus.CASES if not wanted or c.name in wanted)
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "versions": _versions(),
        "sizes": [f"{s.label} {s.fit} {s.format} q{s.quality}" for s in sizes],
        "group_max_pixels": group_max,
        "groups": len(group_sizes(sizes, group_max)),
        "rounds": args.rounds, "reps": args.reps, "simple_reps": args.simple_reps,
        "engine_path": str(args.engine_path) if args.engine_path else "functions/",
        "baseline_path": str(args.baseline_path) if args.baseline_path else None,
        "resize_memory_mb": report.resize_memory_mb(),
        "images": {c.name: c.megapixels for c in cases if c.timed},
        "cpu": {}, "rss": {}, "checks": {},
    }
    with tempfile.TemporaryDirectory(prefix="thumbflow-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        paths = corpus.build(args.corpus or root / "corpus", cases, reuse=args.corpus is not None)
        results["corpus"] = {c.name: {"bytes": paths[c.name].stat().st_size, "size": c.size, "kind": c.kind,
                                      "family": c.family} for c in cases}
        _log(f"corpus of {len(paths)} images in {time.perf_counter() - t0:.1f}s")
        _engines(results, paths, root, args)
        timed = [c.name for c in cases if c.timed]
        _log(f"smart crop and placeholder cost on {len(timed)} cases")
        results["smartcrop"] = smartcrop.measure(paths, timed)
    sharp = next((r["versions"] for r in (results["cpu"].get(c, {}).get("sharp", {}) for c in results["cpu"])
                  if "versions" in r), None)
    results["versions"]["sharp"] = (f"{sharp['sharp']} / libvips {sharp['libvips']} (concurrency "
                                    f"{sharp['concurrency']})" if sharp else measure.node_ready() or "failed")
    results["engines_s"] = time.perf_counter() - started

    if not args.engines_only:
        _log("cold start")
        results["coldstart"] = {**coldstart.measure(5), "reps": 5}
        resize_rss = results["coldstart"]["modules"].get("resize", {}).get("rss_mb")
        base = results["rss"].get("jpeg-100mp", {}).get("engine", {}).get("baseline_mb")
        if resize_rss and base:
            results["handler_extra_mb"] = resize_rss - base
        count = args.local_images or (10 if args.quick else 50)
        _log(f"local mode with {count} images")
        results["local"] = localrun.run(count)
        _log(f"cost on {args.cost_images} images, one at a time")
        results["cost"] = localrun.cost(args.cost_images)

    judged = report.targets(results)
    results["targets"] = [t.to_dict() for t in judged]
    results["runtime_s"] = time.perf_counter() - started
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(report.markdown(results, judged))
    print(f"\n{sum(t.passed for t in judged)}/{len(judged)} targets pass; total {results['runtime_s']:.0f}s "
          f"(engines {results['engines_s']:.0f}s); JSON: {args.out}")
    return 0


def _versions() -> dict[str, str]:
    import PIL

    found = {"pillow": PIL.__version__}
    try:
        import pyvips

        found["pyvips"] = f"{pyvips.__version__} / libvips {pyvips.version(0)}.{pyvips.version(1)}." \
                          f"{pyvips.version(2)} (concurrency {pyvips.concurrency_get()})"
    except Exception as exc:  # pyvips is the optional `bench` extra
        found["pyvips"] = f"unavailable: {exc}"
    return found


if __name__ == "__main__":
    sys.exit(main())
