"""thumbflow against each peer's best pipeline: the per-case targets and their tables.

For every case the *best peer* is whichever of sharp and pyvips used less CPU for all four
sizes. thumbflow is judged against that one on three counts:

* CPU for all sizes <= 0.85x the best peer's on JPEG sources, <= 1.0x on PNG and WebP;
* quality: at every size, its mean absolute difference from the reference is no worse than
  the best peer's (compared at the two decimals the report prints);
* bytes: the four outputs together are no bigger than 1.02x the best peer's.

The floor (thumbflow's own decode at the scale it chooses, plus encoding its outputs, with no
resize) says how much of thumbflow's time is resizing and overhead, and whether a target is
within reach of the decode scale at all.
"""

from __future__ import annotations

from typing import Any

from .engines import PEERS

CPU_LIMIT = {"jpeg": 0.85, "png": 1.0, "webp": 1.0}
BYTES_LIMIT = 1.02
SHOWN = ("engine", "before", *PEERS, "floor", "simple")
TITLES = {"engine": "thumbflow", "before": "thumbflow before", "sharp": "sharp best", "pyvips": "pyvips best",
          "floor": "floor", "simple": "simple Pillow"}


def cpu(results: dict[str, Any], case: str, engine: str) -> float | None:
    return ((results["cpu"].get(case) or {}).get(engine) or {}).get("cpu_ms")


def wall(results: dict[str, Any], case: str, engine: str) -> float | None:
    return ((results["cpu"].get(case) or {}).get(engine) or {}).get("wall_ms")


def best_peer(results: dict[str, Any], case: str) -> str | None:
    """The peer with the least CPU on this case, among those that ran."""
    timed = [(cpu(results, case, p), p) for p in PEERS if cpu(results, case, p)]
    return min(timed)[1] if timed else None


def _checks(results: dict[str, Any], case: str, engine: str) -> list[dict[str, Any]]:
    return ((results.get("checks") or {}).get(case) or {}).get(engine) or []


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def judge(results: dict[str, Any], case: str) -> dict[str, Any]:
    """The three verdicts of one case, with what they were measured against."""
    family = results["corpus"][case]["family"]
    peer = best_peer(results, case)
    mine, theirs = _checks(results, case, "engine"), _checks(results, case, peer) if peer else []
    quality = None
    worst = ""
    if mine and len(mine) == len(theirs):
        ratios = [(round(a["mad"], 2) / max(round(b["mad"], 2), 0.01),
                   f"{a['size']} ({a['mad']:.2f} vs {b['mad']:.2f})")
                  for a, b in zip(mine, theirs, strict=True)]
        quality, worst = max(ratios)
    size_bytes = _ratio(sum(c["bytes"] for c in mine) or None, sum(c["bytes"] for c in theirs) or None)
    return {
        "family": family, "peer": peer,
        "cpu": _ratio(cpu(results, case, "engine"), cpu(results, case, peer) if peer else None),
        "cpu_limit": CPU_LIMIT[family], "quality": quality, "quality_worst": worst, "bytes": size_bytes,
    }


def _fmt(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None else f"{value:,.{digits}f}"


def markdown(results: dict[str, Any]) -> list[str]:
    """The CPU, wall, quality and bytes tables."""
    cases = list(results["cpu"])
    shown = [e for e in SHOWN if any(e in results["cpu"][c] for c in cases)]
    rounds = results.get("rounds")
    lines = [
        f"CPU ms for all four sizes: median over {rounds} rounds x {results.get('reps')} runs, each round "
        "a fresh process per engine (after one warm-up run), engines in rotating order "
        f"(simple Pillow: {results.get('simple_reps')} run per round, context only). best = the peer "
        "with less CPU on that case; floor = thumbflow's decode at its scale on load + encoding its "
        "outputs, no resize.",
        "",
        "| case | MP | " + " | ".join(TITLES[e] for e in shown)
        + " | best peer | thumbflow / best | floor / best | thumbflow / floor |",
        "|---|---:|" + "---:|" * len(shown) + "---|---:|---:|---:|",
    ]
    for case in cases:
        peer = best_peer(results, case)
        cells = [_fmt(cpu(results, case, e)) for e in shown]
        floor = cpu(results, case, "floor")
        best = cpu(results, case, peer) if peer else None
        lines.append(
            f"| {case} | {results['images'][case]:.1f} | {' | '.join(cells)} | {peer or 'n/a'} "
            f"| {_fmt(_ratio(cpu(results, case, 'engine'), best), 2)} | {_fmt(_ratio(floor, best), 2)} "
            f"| {_fmt(_ratio(cpu(results, case, 'engine'), floor), 2)} |")
    walled = [e for e in shown if e != "simple"]
    lines += ["", "Wall ms (same runs; libvips threads use both cores where it can, thumbflow one):", "",
              "| case | " + " | ".join(TITLES[e] for e in walled) + " | thumbflow / faster peer |",
              "|---|" + "---:|" * len(walled) + "---:|"]
    for case in cases:
        peer_wall = min((w for p in PEERS if (w := wall(results, case, p))), default=None)
        lines.append(f"| {case} | " + " | ".join(_fmt(wall(results, case, e)) for e in walled)
                     + f" | {_fmt(_ratio(wall(results, case, 'engine'), peer_wall), 2)} |")
    lines += ["", "Quality and bytes per size: mean absolute difference (0-255) from a float LANCZOS "
              "resize of the full upright decode to the same dimensions (lower is better; `!` marks a "
              "wrong dimension, orientation or format), and the encoded bytes:", "",
              "| case | size | thumbflow output | MAE thumbflow | sharp | pyvips | bytes thumbflow | sharp "
              "| pyvips | bytes / best |",
              "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for case in cases:
        peer = best_peer(results, case)
        mine = _checks(results, case, "engine")
        by = {p: _checks(results, case, p) for p in PEERS}
        for i, c in enumerate(mine):
            mae = [_mae(c)] + [_mae(by[p][i]) if len(by[p]) > i else "n/a" for p in PEERS]
            size_bytes = [f"{c['bytes']:,}"] + [f"{by[p][i]['bytes']:,}" if len(by[p]) > i else "n/a"
                                               for p in PEERS]
            theirs = by[peer][i]["bytes"] if peer and len(by[peer]) > i else None
            lines.append(f"| {case} | {c['size']} {c['fit']} | {c['width']}x{c['height']} {c['format']} "
                         f"| {' | '.join(mae)} | {' | '.join(size_bytes)} "
                         f"| {_fmt(_ratio(c['bytes'], theirs), 3)} |")
    return lines + _before_and_after(results, cases)


def _before_and_after(results: dict[str, Any], cases: list[str]) -> list[str]:
    """thumbflow against the copy of itself ``--baseline-path`` named, when one ran."""
    compared = [c for c in cases if cpu(results, c, "before") and cpu(results, c, "engine")]
    if not compared:
        return []
    lines = ["", f"thumbflow against thumbflow before ({results.get('baseline_path')}), same rounds: CPU ms, "
             "and per size the MAE change (after - before, worst size) and the bytes:", "",
             "| case | CPU before | CPU after | after / before | MAE per size, before -> after "
             "| worst MAE change | bytes after / before |", "|---|---:|---:|---:|---|---:|---:|"]
    for case in compared:
        after, before = _checks(results, case, "engine"), _checks(results, case, "before")
        maes = " / ".join(f"{b['mad']:.2f}->{a['mad']:.2f}" for a, b in zip(after, before, strict=False))
        worst = max((round(a["mad"], 2) - round(b["mad"], 2) for a, b in zip(after, before, strict=False)),
                    default=None)
        size = _ratio(sum(c["bytes"] for c in after) or None, sum(c["bytes"] for c in before) or None)
        was, now = cpu(results, case, "before"), cpu(results, case, "engine")
        lines.append(f"| {case} | {_fmt(was)} | {_fmt(now)} | {_fmt(_ratio(now, was), 2)} "
                     f"| {maes} | {_fmt(worst, 2)} | {_fmt(size, 3)} |")
    return lines


def _mae(check: dict[str, Any]) -> str:
    ok = check["dims_ok"] and check["orientation_ok"] and check["format_ok"]
    return f"{check['mad']:.2f}{'' if ok else '!'}"


def targets(results: dict[str, Any], target: Any) -> list[Any]:
    """Per case: CPU, quality and bytes against the best peer (``target`` builds a report.Target)."""
    out = []
    for case in results["cpu"]:
        v = judge(results, case)
        against = f"vs {v['peer']}" if v["peer"] else "no peer ran"
        out.append(target(f"CPU all sizes vs best peer, {case}", v["cpu"], v["cpu_limit"], "x", against))
        out.append(target(f"MAE vs best peer, worst size, {case}", v["quality"], 1.0, "x",
                          f"{against}, at {v['quality_worst']}" if v["quality_worst"] else against))
        out.append(target(f"bytes all sizes vs best peer, {case}", v["bytes"], BYTES_LIMIT, "x", against))
    return out
