"""The worst case of every format and pixel layout within the default limits, measured.

    python -m bench.worstcase [--only TEXT] [--fresh] [--calibrate] [--json FILE]
    make worstcase

Builds (once; kept in .thumbflow/worstcase/) the largest valid image of each format and
mode within MaxSourceBytes 50 MiB and MaxSourcePixels 100 MP, and the header bombs, all
from tests/worstcases.py. Each runs in a fresh process the way the workflow runs it: the
Validate step's ``admission.judge`` on ranged reads of the bytes (against the default
render group and ResizeFunction's 1024 MB / 120 s), then, if admitted, the Resize step's
``imaging.render`` of the four default sizes. It prints a markdown table: the peak RSS of
that process (interpreter, boto3, Pillow included) and its CPU, for Validate and for the
whole run, the cost model's estimate, and the outcome, with PASS when a valid image renders
within 900 MB or is refused by name, and a bomb is refused by name (or renders) within
Validate's 256 MB and, at Validate's 1/6.9 of a vCPU, its 30 s.

``--calibrate`` adds the measured bytes and nanoseconds per pixel beside the estimate, which
is how the constants of functions/thumbnailer/imaging/cost.py were set.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / ".thumbflow" / "worstcase"
BUILDERS_VERSION = "1"  # bump when tests/worstcases.py builds different bytes
PEAK_TARGET_MB = 900
VALIDATE_MB, VALIDATE_TIMEOUT_S, VALIDATE_STRETCH = 256, 30, 1769 / 256
CHILD_TIMEOUT_S = 300

_CHILD = r"""
import json, resource, sys, time

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

import boto3
from thumbnailer import resize, validate  # the handlers' imports: Lambda's starting point
from thumbnailer import admission, imaging, storage
from thumbnailer.errors import ImageRejected
from thumbnailer.records import RenderGroup
from thumbnailer.settings import Settings
from thumbnailer.spec import SizeSpec

boto3.client("s3", region_name="us-east-1")
source_file = open(sys.argv[1], "rb")

def ranged(info, byte_range=None):  # storage.read, served from the file: ranges as S3 serves them
    source_file.seek(0 if byte_range is None else byte_range[0])
    return source_file.read() if byte_range is None else source_file.read(byte_range[1] - byte_range[0] + 1)

storage.read = ranged
size = source_file.seek(0, 2)
SPECS = (SizeSpec(128, 128, "cover", "auto", 80), SizeSpec(256, 256), SizeSpec(512, 512),
         SizeSpec(1024, 1024, "inside", "auto", 82))
settings = Settings("src", "thumbs", 50 * 1024 * 1024, 100_000_000)
seen = []
real_probe = imaging.probe

def probe(*args, **kwargs):  # the facts Validate judged by, for the estimate column
    facts = real_probe(*args, **kwargs)
    seen.append(facts)
    return facts

admission.imaging.probe = probe
out = {"baseline_mb": peak_mb()}
c0 = cpu()
try:
    info = storage.ObjectInfo("src", "case", "etag", size)
    source = admission.judge(info, settings, [RenderGroup(SPECS)])
    out["validate_cpu"], out["validate_mb"] = cpu() - c0, peak_mb()
    facts = seen[-1]
    data = ranged(info)  # Resize reads the whole object
    out["estimate"] = [facts.cost.memory_mb, facts.cost.cpu_s] if facts and facts.cost else None
    out["pixels"] = source.width * source.height
    out["mode"] = facts.mode if facts else ""
    made = imaging.render(data, SPECS, max_pixels=100_000_000)
    out["outcome"] = "rendered"
    out["sizes"] = " ".join(f"{r.width}x{r.height}.{r.extension}" for r in made)
except ImageRejected as exc:
    if seen and seen[-1] is not None and seen[-1].cost and "estimate" not in out:
        out["estimate"] = [seen[-1].cost.memory_mb, seen[-1].cost.cpu_s]
        out["pixels"] = seen[-1].width * seen[-1].height
        out["refused_by"] = "Validate"
    out.setdefault("validate_cpu", cpu() - c0)
    out.setdefault("validate_mb", peak_mb())
    out["outcome"] = exc.reason
    out["cause"] = str(exc)
    out.setdefault("refused_by", "Resize" if "validate_mb" in out and "pixels" in out else "Validate")
out["cpu"], out["peak_mb"] = cpu() - c0, peak_mb()
print(json.dumps(out))
"""


def build(cases: list[Any], fresh: bool) -> dict[str, Path]:
    """Each case's bytes, built now unless the cache already has them."""
    sys.path.insert(0, str(REPO))
    folder = CACHE / f"v{BUILDERS_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in cases:
        path = folder / f"{case.name}.bin"
        if fresh or not path.exists():
            started = time.perf_counter()
            data = case.build()
            path.write_bytes(data)
            print(
                f"built {case.name}: {len(data) / 2**20:.1f} MiB in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
        paths[case.name] = path
    return paths


def run_case(path: Path) -> dict[str, Any]:
    """One case in a fresh interpreter, as Validate then Resize would run it."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "functions"), str(REPO)])}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path)],
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT_S,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": f"timeout after {CHILD_TIMEOUT_S} s"}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["?"])[-1]
        return {"outcome": f"crashed ({done.returncode}): {tail[:120]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    return result


def verdict(case: Any, got: dict[str, Any]) -> str:
    """PASS when the case ends as it must: within its budget, or refused by the name it must have."""
    outcome = got.get("outcome", "")
    validate_ok = (
        got.get("validate_mb", 1e9) <= VALIDATE_MB
        and got.get("validate_cpu", 1e9) * VALIDATE_STRETCH <= VALIDATE_TIMEOUT_S
    )
    if outcome == "rendered":
        ok = case.reject is None and got["peak_mb"] <= PEAK_TARGET_MB
    else:
        ok = outcome == case.reject or (case.reject is None and outcome == "too-costly")
    return "PASS" if ok and validate_ok else "FAIL"


def table(rows: list[tuple[Any, dict[str, Any]]], calibrate: bool) -> str:
    head = ["case", "MP", "MiB", "Validate MB / CPU s", "peak MB", "CPU s", "estimate MB / s", "outcome", ""]
    if calibrate:
        head[-1:-1] = ["B/px over baseline", "ns/px"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for case, got in rows:
        pixels = got.get("pixels", 0)
        est = got.get("estimate")
        outcome = got.get("outcome", "?")
        if outcome != "rendered" and "refused_by" in got:
            outcome = f"refused by {got['refused_by']}: {outcome}"
        cells = [
            case.name,
            f"{pixels / 1e6:.0f}" if pixels else "",
            f"{got.get('bytes', 0) / 2**20:.1f}",
            f"{got.get('validate_mb', 0):.0f} / {got.get('validate_cpu', 0):.2f}",
            f"{got.get('peak_mb', 0):.0f}",
            f"{got.get('cpu', 0):.2f}",
            f"{est[0]:.0f} / {est[1]:.1f}" if est else "",
            outcome,
        ]
        if calibrate:
            over = (got.get("peak_mb", 0) - got.get("baseline_mb", 0)) * 2**20
            cells += [
                f"{over / pixels:.2f}" if pixels > 1e6 else "",
                f"{got.get('cpu', 0) * 1e9 / pixels:.0f}" if pixels > 1e6 else "",
            ]
        cells.append(verdict(case, got))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worstcase", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="run the cases whose name contains this text")
    parser.add_argument("--fresh", action="store_true", help="rebuild the inputs")
    parser.add_argument("--calibrate", action="store_true", help="add bytes and ns per pixel")
    parser.add_argument("--json", type=Path, help="also write the measurements here")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.worstcases import BOMBS, GIANTS

    cases = [c for c in [*GIANTS, *BOMBS] if args.only in c.name]
    started = time.perf_counter()
    paths = build(cases, args.fresh)
    rows = []
    for case in cases:
        got = run_case(paths[case.name])
        got["bytes"] = paths[case.name].stat().st_size
        rows.append((case, got))
        print(
            f"{case.name}: {got.get('outcome')} {got.get('peak_mb', 0):.0f} MB {got.get('cpu', 0):.2f} s",
            file=sys.stderr,
        )
    print(table(rows, args.calibrate))
    failed = [case.name for case, got in rows if verdict(case, got) == "FAIL"]
    print(
        f"\n{len(rows) - len(failed)}/{len(rows)} PASS in {time.perf_counter() - started:.0f} s"
        + (f"; FAIL: {', '.join(failed)}" if failed else "")
    )
    if args.json:
        args.json.write_text(json.dumps({case.name: got for case, got in rows}, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
