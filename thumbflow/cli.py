"""The `thumbflow` command: run the application locally and operate it.

stdout carries only what the command promises (the table, or JSON lines with
--json); the handlers' own logs go to the state folder's lambda.log.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from . import cost, persist
from .cfn import TemplateError
from .localcloud import LocalCloud, repo_root
from .report import contact_sheet, table
from .runner import collect_uploads, run


def _params(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param takes NAME=VALUE, got {pair!r}")
        out[name] = value
    return out


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--template", type=Path, default=repo_root() / "template.yaml",
                   help="SAM template to run (default: the repo's template.yaml)")
    p.add_argument("--definition", type=Path, default=None,
                   help="use this state-machine definition instead of the template's DefinitionUri")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="template parameter override (repeatable)")
    p.add_argument("--state", type=Path, default=Path(".thumbflow"),
                   help="folder that keeps local buckets between commands (default: .thumbflow)")
    p.add_argument("--fresh", action="store_true", help="start with empty buckets")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="thumbflow", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="upload images locally and make their thumbnails")
    p_run.add_argument("paths", nargs="+", help="image files or folders")
    p_run.add_argument("--out", type=Path, default=Path("thumbnails"),
                       help="where thumbnails and index.html go (default: ./thumbnails)")
    p_run.add_argument("--json", action="store_true", help="one JSON object per source on stdout")
    _common(p_run)

    p_exec = sub.add_parser("execute", help="start one execution with a given input")
    p_exec.add_argument("--input", type=Path, required=True, help="JSON input file (see events/)")
    p_exec.add_argument("--json", action="store_true", help="print the result as one JSON object")
    _common(p_exec)

    p_serve = sub.add_parser("serve", help="serve thumbnails by URL, rendering allowed sizes on demand")
    p_serve.add_argument("paths", nargs="*", help="image files or folders to upload first")
    p_serve.add_argument("--port", type=int, default=8080, help="port on 127.0.0.1 (0 = any free one)")
    _common(p_serve)

    p_cost = sub.add_parser("cost", help="dollars per million images, priced from a measured local run")
    p_cost.add_argument("paths", nargs="*", help="images to measure on (default: the bundled samples)")
    p_cost.add_argument("--prices", type=Path, default=None,
                        help=f"price table (default: thumbflow/{cost.PRICES_PATH.name})")
    p_cost.add_argument("--json", action="store_true", help="print usage, bill and totals as JSON")
    p_cost.add_argument("--images-per-month", type=float, default=cost.DEFAULT_IMAGES_PER_MONTH,
                        help="volume to price X-Ray sampling at (default: 1,000,000)")
    _common(p_cost)
    return parser


@contextmanager
def _quiet_stdout(log_path: Path) -> Iterator[TextIO]:
    """Handlers log to stdout (as in Lambda); send that to a file and give back the terminal."""
    real = sys.stdout
    log_path.parent.mkdir(parents=True, exist_ok=True)
    moto_log = logging.getLogger("moto")
    with open(log_path, "a", encoding="utf-8") as log:
        sys.stdout = log
        # The interpreter logs every caught state error at ERROR: history, not news.
        handler = logging.StreamHandler(log)
        moto_log.addHandler(handler)
        moto_log.propagate = False
        try:
            yield real
        finally:
            sys.stdout = real
            moto_log.removeHandler(handler)
            moto_log.propagate = True


def _cloud(args: argparse.Namespace) -> LocalCloud:
    state: Path = args.state
    restore = None if args.fresh else (lambda c: persist.restore(c, state))
    return LocalCloud(args.template, parameters=_params(args.param),
                      definition_path=args.definition, before_notifications=restore)


def _progress(out: TextIO) -> Any:
    if not out.isatty():
        return None

    def show(done: int, total: int) -> None:
        width = 30
        filled = int(width * done / max(total, 1))
        out.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}")
        if done == total:
            out.write("\r" + " " * (width + 20) + "\r")
        out.flush()

    return show


def cmd_run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    with _quiet_stdout(args.state / "lambda.log") as out:
        with _cloud(args) as cloud:
            results = run(cloud, args.paths, args.out, progress=_progress(out))
            persist.save(cloud, args.state)
        sheet = contact_sheet(results, args.out)
    if args.json:
        for r in results:
            out.write(json.dumps(r.to_dict()) + "\n")
        return 0
    out.write(table(results) + "\n")
    for r in results:
        for alert in r.alerts:
            body = json.loads(alert)
            out.write(f"ALERT {body.get('subject', '')}: {body.get('key')}: {body.get('cause')}\n")
    out.write(f"thumbnails and contact sheet: {sheet}  ({time.perf_counter() - started:.1f} s)\n")
    return 0


def _history_lines(events: Sequence[dict[str, Any]]) -> list[str]:
    """State by state: when each was entered and exited, and what failed."""
    lines: list[str] = []
    t0 = events[0]["timestamp"] if events else None
    for ev in events:
        kind = ev["type"]
        detail = ""
        for key in ("stateEnteredEventDetails", "stateExitedEventDetails"):
            if key in ev:
                detail = ev[key].get("name", "")
        for key, value in ev.items():
            if key.endswith("FailedEventDetails") and isinstance(value, dict):
                detail = f"{value.get('error', '')}: {str(value.get('cause', ''))[:120]}"
        ms = (ev["timestamp"] - t0).total_seconds() * 1000 if t0 else 0.0
        lines.append(f"{ms:8.1f} ms  {kind:<32} {detail}")
    return lines


def cmd_execute(args: argparse.Namespace) -> int:
    payload = json.loads(args.input.read_text(encoding="utf-8"))
    with _quiet_stdout(args.state / "lambda.log") as out, _cloud(args) as cloud:
        arn = cloud.execute(payload)
        desc = cloud.wait(arn)
        events = cloud.history(arn)
        alerts = [a.message for a in cloud.alerts() if a.body.get("execution") == arn]
        persist.save(cloud, args.state)
    output = json.loads(desc.get("output") or "null")
    if args.json:
        out.write(json.dumps({
            "execution": arn, "status": desc["status"], "error": desc.get("error"),
            "cause": desc.get("cause"), "output": output, "alerts": alerts,
            "history": [{"type": e["type"], **{k: v for k, v in e.items() if k.endswith("Details")}}
                        for e in events]}, default=str) + "\n")
        return 0
    out.write(f"execution {arn}\nstatus    {desc['status']}\n")
    if desc.get("error"):
        out.write(f"error     {desc['error']}\ncause     {desc.get('cause')}\n")
    if output is not None:
        out.write("output    " + json.dumps(output, indent=2) + "\n")
    for alert in alerts:
        out.write(f"alert     {alert}\n")
    out.write("history\n" + "\n".join(_history_lines(events)) + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .serve import serving

    with _quiet_stdout(args.state / "lambda.log") as out, _cloud(args) as cloud:
        if args.paths:
            run(cloud, args.paths, None)
        with serving(cloud, args.port) as server:
            out.write(f"thumbflow: serving {server.url}  (gallery at /, thumbnails at /t/<key>; "
                      "Ctrl-C stops)\n")
            out.flush()
            try:
                server.serve_forever()
            except KeyboardInterrupt:
                out.write("\nstopping; saving local state\n")
        persist.save(cloud, args.state)
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    """Run the images one at a time on empty buckets (so durations are not contended), then price."""
    prices = cost.load_prices(args.prices)
    paths = args.paths or [repo_root() / "samples"]
    uploads = collect_uploads(paths)
    fresh = LocalCloud(args.template, parameters=_params(args.param), definition_path=args.definition)
    with _quiet_stdout(args.state / "lambda.log") as out, fresh as cloud:
        # Counts what the handlers write while the images run, on its way to lambda.log.
        usage = cost.run_one_at_a_time(cloud, uploads, cost.CountingLog(sys.stdout), prices)
    source = ", ".join(str(p) for p in paths)
    if args.json:
        lines = cost.bill(usage, prices, args.images_per_month)
        out.write(json.dumps({
            "source": source, "usage": usage.to_dict(),
            "lines": [vars(line) for line in lines],
            "totals": cost.totals(lines),
            "prices": {"region": prices["region"], "as_of": prices["as_of"]},
        }) + "\n")
        return 0
    out.write(cost.report(usage, prices, source, args.images_per_month) + "\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "execute":
            return cmd_execute(args)
        if args.command == "serve":
            return cmd_serve(args)
        if args.command == "cost":
            return cmd_cost(args)
    except (TemplateError, FileNotFoundError) as exc:
        print(f"thumbflow: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
