"""The targets, judged against the measurements, and the markdown printed at the end."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from . import comparison, smartcrop
from .engines import REPO

RSS_ENGINES = ("engine", "sharp", "pyvips", "simple")


@dataclass
class Target:
    name: str
    measured: float | None
    limit: float
    unit: str
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.measured is not None and self.measured <= self.limit

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "passed": self.passed}


def resize_memory_mb() -> int:
    """ResizeFunction's MemorySize (falling back to Globals), as template.yaml sets it."""
    from thumbflow.local.template import load_template

    template = load_template(REPO / "template.yaml")
    globals_fn = (template.get("Globals") or {}).get("Function") or {}
    props = template["Resources"]["ResizeFunction"].get("Properties") or {}
    value = props.get("MemorySize", globals_fn.get("MemorySize", 128))
    if isinstance(value, dict) and "Fn::FindInMap" in value:  # the RenderLimits mapping
        name, key, attribute = value["Fn::FindInMap"]
        value = template["Mappings"][name][key][attribute]
    return int(value)


def _rss(results: dict[str, Any], image: str, engine: str) -> float | None:
    return ((results["rss"].get(image) or {}).get(engine) or {}).get("peak_mb")


def targets(results: dict[str, Any]) -> list[Target]:
    out: list[Target] = comparison.targets(results, Target)
    if "jpeg-24mp" in results["rss"]:
        out.append(Target("peak RSS, jpeg-24mp (engine process)",
                          _rss(results, "jpeg-24mp", "engine"), 80, "MB"))
    if "jpeg-100mp" in results["rss"]:
        memory = results["resize_memory_mb"]
        out.append(Target("peak RSS, jpeg-100mp vs ResizeFunction MemorySize",
                          _rss(results, "jpeg-100mp", "engine"), memory, "MB",
                          f"engine process; + handler imports ~{results.get('handler_extra_mb', 0):.0f} MB"))
    cold = results.get("coldstart") or {}
    tracing = (cold.get("tracing") or {}).get("deployed", "?")
    for name, figures in cold.get("modules", {}).items():
        out.append(Target(f"cold init, thumbnailer.{name} (tracing {tracing}, as deployed)",
                          figures.get("import_s"), 0.35, "s",
                          f"wall; CPU {figures.get('import_cpu_s', 0):.2f} s; first invocation "
                          f"+{figures.get('client_s', 0):.2f} s (S3 client)"))
    local = results.get("local")
    if local:
        out.append(Target("local mode orchestration share of wall time", local["outside_share_union"] * 100,
                          25, "%",
                          "wall time with no handler running; of all CPU (this process and the "
                          f"Lambda workers), {local['outside_share_cpu']:.0%} is spent outside handlers, "
                          f"{local.get('orchestration_share_cpu', 0):.0%} outside handlers and the "
                          "uploading driver (interpreter, rule, moto, worker channels)"))
    spent = results.get("cost")
    if spent:
        out.append(Target("Express workflow cost, 4 sizes, 12 MP JPEGs", spent["totals"]["EXPRESS"], 35,
                          "$/M images",
                          f"`thumbflow cost` on {spent['images']} images one at a time; Standard "
                          f"${spent['totals']['STANDARD']:.0f}/M; prices as of {spent['prices_as_of']}"))
    checks = results.get("checks") or {}
    bad = [f"{img}/{eng}/{c['size']}" for img, by in checks.items() for eng, cs in by.items()
           for c in cs if not (c["dims_ok"] and c["orientation_ok"] and c["format_ok"])
           and eng == "engine"]
    out.append(Target("engine outputs: dimensions, orientation, format", float(len(bad)), 0, "failures",
                      ", ".join(bad[:6])))
    return out


def _fmt(value: float | None, digits: int = 0, suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{suffix}"


def markdown(results: dict[str, Any], judged: list[Target]) -> str:
    sizes = results["sizes"]
    versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items())
    lines = [
        f"## thumbflow bench ({results['machine']})",
        "",
        f"Versions: {versions}. Sizes: {', '.join(sizes)} (Configure; groupMaxPixels "
        f"{results['group_max_pixels']} -> {results['groups']} render group(s)).",
        "",
        *comparison.markdown(results),
        "",
        *([*smartcrop.markdown(results["smartcrop"]), ""] if results.get("smartcrop") else []),
        "Peak RSS MB of a fresh process running the engine once (node's own runtime included for sharp):",
        "",
        "| case | " + " | ".join(comparison.TITLES[e] for e in RSS_ENGINES) + " |",
        "|---|" + "---:|" * len(RSS_ENGINES),
    ]
    for image in results["rss"]:  # the timed cases, then those measured for memory only
        lines.append(f"| {image} | " + " | ".join(_fmt(_rss(results, image, e)) for e in RSS_ENGINES) + " |")
    cold = results.get("coldstart") or {}
    if cold:
        tracing = cold.get("tracing") or {}
        template_tracing = ", ".join(tracing.get("template_tracing", []))
        start_ms = cold["interpreter_start_s"] * 1000
        lines += ["", f"Cold start (median of {cold.get('reps')} fresh interpreters in the Lambda "
                  f"environment the template sets; bare interpreter start {start_ms:.0f} ms, not "
                  f"included). Template `Tracing`: {template_tracing}; Powertools tracing as deployed: "
                  f"**{tracing.get('deployed')}**. import+init = `import thumbnailer.<module>` (the init "
                  "phase); 1st invocation = what only the first call adds (the S3 client):", "",
                  "| module | tracing | import+init s (wall) | import+init s (CPU) "
                  "| 1st invocation s (wall / CPU) | whole process s | RSS MB | X-Ray SDK loaded |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]
        configs = [(f"{tracing.get('deployed')} (deployed)", cold.get("modules") or {})]
        other = cold.get("other") or {}
        if other:
            configs.append((str(other.get("tracing")), other.get("modules") or {}))
        for label, modules in configs:
            for name, f in modules.items():
                if "error" in f:
                    lines.append(f"| {name} | {label} | error: {f['error']} | | | | | |")
                    continue
                lines.append(f"| {name} | {label} | {f['import_s']:.3f} | {f['import_cpu_s']:.3f} "
                             f"| {f['client_s']:.3f} / {f['client_cpu_s']:.3f} | {f['process_s']:.3f} "
                             f"| {f['rss_mb']:.0f} | {'yes' if f.get('xray_imported') else 'no'} |")
    local = results.get("local")
    if local:
        lines += ["", f"Local mode: {local['images']} x 12 MP JPEG, {local['statuses']}, "
                  f"{local['thumbnails']} thumbnails, {local['invocations']} invocations "
                  f"({local['errors']} errors):", "",
                  "| wall s | images/s | handler busy (union) s | no handler running (1-union/wall) "
                  "| CPU outside handlers | CPU outside handlers and driver |",
                  "|---:|---:|---:|---:|---:|---:|",
                  f"| {local['wall_s']:.1f} | {local['images_per_s']:.2f} "
                  f"| {local['busy_s']:.1f} | {local['outside_share_union']:.0%} "
                  f"| {local['outside_share_cpu']:.0%} | {local.get('orchestration_share_cpu', 0):.0%} |", "",
                  "union = total time at least one handler ran (spans stamped by wrapping Runtime.invoke); "
                  "executions run in parallel threads, so per-invocation wall spans overlap and include "
                  "waiting for the 2 cores (their sum is not a useful figure). "
                  "CPU outside = 1 - handler thread CPU / process CPU; the driver is the thread that "
                  "uploads the 50 files (moto storing 12 MP bodies with checksums) and polls for results."]
        per_fn = ", ".join(f"{k} {v['count']}x median {v['median_s']:.2f}s"
                           for k, v in local["by_function"].items())
        lines.append(f"Per function: {per_fn}.")
    spent = results.get("cost")
    if spent:
        lines += ["", f"Cost (`thumbflow cost` on {spent['images']} x 12 MP JPEG, one at a time; "
                  f"prices as of {spent['prices_as_of']}), $ per million images:", "",
                  "| item | STANDARD | EXPRESS |", "|---|---:|---:|"]
        for line in spent["lines"]:
            if line["standard"] or line["express"]:
                lines.append(f"| {line['item']} | {line['standard']:,.2f} | {line['express']:,.2f} |")
        lines.append(f"| **total** | **{spent['totals']['STANDARD']:,.2f}** "
                     f"| **{spent['totals']['EXPRESS']:,.2f}** |")
    lines += ["", "### Targets", "", "| target | measured | limit | verdict | note |",
              "|---|---:|---:|---|---|"]
    for t in judged:
        digits = (3 if t.name.startswith(("bytes", "MAE")) else 2) if t.unit in ("x", "s") else 0
        lines.append(f"| {t.name} | {_fmt(t.measured, digits)} {t.unit} | {t.limit:g} {t.unit} "
                     f"| **{t.verdict}** | {t.detail} |")
    return "\n".join(lines)
