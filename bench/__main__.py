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

from . import coldstart, corpus, localrun, measure, report  # noqa: E402
from .engines import ENGINES, configure, specs  # noqa: E402


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="local mode with 10 images instead of 50")
    parser.add_argument("--reps", type=int, default=5, help="timed repetitions per engine x image (>= 5)")
    parser.add_argument("--local-images", type=int, default=None, help="override the local-mode image count")
    parser.add_argument("--cost-images", type=int, default=10, help="12 MP JPEGs priced by `thumbflow cost`")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "latest.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    from thumbnailer.plan import plan_groups

    sizes = specs()
    _, group_max = configure()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "versions": _versions(),
        "sizes": [f"{s.label} {s.fit} {s.format} q{s.quality}" for s in sizes],
        "group_max_pixels": group_max,
        "groups": len(plan_groups(sizes, group_max)),
        "reps": 2 * -(-args.reps // 2),  # two rounds, see below
        "resize_memory_mb": report.resize_memory_mb(),
        "images": {c.name: c.megapixels for c in corpus.CASES},
        "cpu": {}, "rss": {}, "checks": {},
    }
    with tempfile.TemporaryDirectory(prefix="thumbflow-bench-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        paths = corpus.build(root / "corpus")
        results["corpus"] = {c.name: {"bytes": paths[c.name].stat().st_size, "size": c.size, "kind": c.kind}
                             for c in corpus.CASES}
        _log(f"corpus of {len(paths)} images in {time.perf_counter() - t0:.1f}s")
        # Two rounds per image, engines interleaved, each round a fresh process with its own warm-up:
        # a burst of load from elsewhere on the machine then hits every engine, not just one.
        rounds = 2
        per_round = -(-args.reps // rounds)
        for case in corpus.CASES:
            path = paths[case.name]
            if case.timed:
                t0 = time.perf_counter()
                raw: dict[str, list[dict[str, Any]]] = {engine: [] for engine in ENGINES}
                for _ in range(rounds):
                    for engine in ENGINES:
                        out = root / "out" / engine / case.name
                        raw[engine].append(measure.time_case(engine, path, out, per_round))
                merged = {engine: measure.merge(runs) for engine, runs in raw.items()}
                results["cpu"][case.name] = merged
                _log(f"{case.name}: " + ", ".join(f"{e} {r.get('cpu_ms', r.get('error'))}"
                                                  for e, r in merged.items())
                     + f" ms CPU ({time.perf_counter() - t0:.1f}s)")
                refs = measure.references(path, sizes)
                results["checks"][case.name] = {
                    engine: measure.check(res["outputs"], refs, sizes, portrait=case.kind == "exif6",
                                          alpha=case.kind == "png-rgba")
                    for engine, res in results["cpu"][case.name].items() if "outputs" in res
                }
            if case.timed:  # the peak of each timed process's warm-up run
                results["rss"][case.name] = {e: r.get("rss", r) for e, r in results["cpu"][case.name].items()}
            else:
                results["rss"][case.name] = {e: measure.rss_case(e, path)
                                             for e in ("engine", "simple", "pyvips")}
            _log(f"{case.name} peak RSS: " + ", ".join(
                f"{e} {r.get('peak_mb', r.get('error'))}" for e, r in results["rss"][case.name].items()))

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
    print(f"\n{sum(t.passed for t in judged)}/{len(judged)} targets pass; total {results['runtime_s']:.0f}s; "
          f"JSON: {args.out}")
    return 0


def _versions() -> dict[str, str]:
    import PIL

    found = {"pillow": PIL.__version__}
    try:
        import pyvips

        found["pyvips"] = pyvips.__version__
        found["libvips"] = f"{pyvips.version(0)}.{pyvips.version(1)}.{pyvips.version(2)}"
    except Exception as exc:  # pyvips is the optional `bench` extra
        found["pyvips"] = f"unavailable: {exc}"
    return found


if __name__ == "__main__":
    sys.exit(main())
