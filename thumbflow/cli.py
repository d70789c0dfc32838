"""The `thumbflow` command: run the application locally and operate it.

stdout carries only what the command promises (the table, or JSON lines with
--json); the handlers' own logs (their Lambda workers' output) go to the state
folder's lambda.log.

Importing this module imports no SDK and no moto: each command imports what it uses, so
that, as the process's entry point, ``main`` can start the local cloud's fork server
before those imports (``forkserver.start_early``) and both sets of imports run at once.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .local import forkserver, gcpause
from .local.logsink import emulator_log
from .terminal import printable

if TYPE_CHECKING:
    from .local.cloud import LocalCloud

REPO = Path(__file__).resolve().parents[1]  # the repository: its template.yaml and samples
PRICES_FILE = "prices.json"  # thumbflow/prices.json, cost.PRICES_PATH
IMAGES_PER_MONTH = 1_000_000  # cost.DEFAULT_IMAGES_PER_MONTH
BUCKETS = ("source", "thumbnails")  # catalogue.BUCKETS


def _params(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--param takes NAME=VALUE, got {pair!r}")
        out[name] = value
    return out


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--template", type=Path, default=REPO / "template.yaml",
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
                        help=f"price table (default: thumbflow/{PRICES_FILE})")
    p_cost.add_argument("--json", action="store_true", help="print usage, bill and totals as JSON")
    p_cost.add_argument("--images-per-month", type=float, default=IMAGES_PER_MONTH,
                        help="volume to price X-Ray sampling at (default: 1,000,000)")
    _common(p_cost)

    p_delete = sub.add_parser("delete", help="delete source objects (as a user would) and report the purges")
    p_delete.add_argument("keys", nargs="+", help="source keys to delete")
    p_delete.add_argument("--json", action="store_true", help="one JSON object per key on stdout")
    _common(p_delete)

    p_list = sub.add_parser("list", help="the objects of a local bucket, with their size and tags")
    p_list.add_argument("--bucket", choices=BUCKETS, default="source")
    p_list.add_argument("--json", action="store_true", help="one JSON object per object on stdout")
    _common(p_list)

    p_backfill = sub.add_parser("backfill", help="bring every existing source up to the current Configure")
    p_backfill.add_argument("--prefix", default=None, help="only keys under this prefix (default: KeyPrefix)")
    p_backfill.add_argument("--json", action="store_true", help="print the result as one JSON object")
    _common(p_backfill)
    return parser


@contextmanager
def _lambda_log(log_path: Path) -> Iterator[tuple[TextIO, TextIO]]:
    """(stdout, the log): handlers' output (their workers' stdout, as in Lambda) and the
    interpreter's logging go to lambda.log, so stdout carries only what the command prints."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "a", encoding="utf-8") as log, emulator_log(log):
        yield sys.stdout, log


# Set by ``main`` when it is the process's entry point: the process ends with its command.
_ONE_SHOT = False


@contextmanager
def _started(cloud: LocalCloud) -> Iterator[LocalCloud]:
    """The cloud, running for the block; in a process that ends with the command, what the
    start made is kept out of the garbage collector's later runs (``gcpause.settle``)."""
    with cloud:
        if _ONE_SHOT:
            gcpause.settle()
        yield cloud


def _cloud(args: argparse.Namespace, log: TextIO, uploads: int = 0) -> contextlib.AbstractContextManager[
        LocalCloud]:
    """The local cloud for a command. Its functions get at most as many workers as the machine
    has cores (more would only take turns on them, each paying a cold start), and for ``uploads``
    that many environments of the upload workflow's functions (up to that) start with the deploy."""
    from .local import persist
    from .local.cloud import LocalCloud
    from .local.lambdas import DEFAULT_CAP

    state: Path = args.state
    restore = None if args.fresh else (lambda c: persist.restore(c, state))
    workers = max(1, min(DEFAULT_CAP, os.cpu_count() or 1))
    return _started(LocalCloud(args.template, parameters=_params(args.param),
                               definition_path=args.definition, before_notifications=restore, log=log,
                               max_workers_per_function=workers, prewarm=min(workers, uploads)))


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


def cmd_delete(args: argparse.Namespace) -> int:
    from . import catalogue
    from .local import persist

    with _lambda_log(args.state / "lambda.log") as (out, log), _cloud(args, log) as cloud:
        rows = catalogue.delete(cloud, args.keys)
        persist.save(cloud, args.state)
    for row in rows:
        if args.json:
            out.write(json.dumps(row) + "\n")
        else:
            out.write(printable(f"{row['key']}  {row['status']}  {row['outcome'] or row.get('cause') or ''}  "
                                f"purged {len(row['purged'])}, kept {len(row.get('kept', []))}") + "\n")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from . import catalogue

    with _lambda_log(args.state / "lambda.log") as (out, log), _cloud(args, log) as cloud:
        rows = catalogue.listing(cloud, args.bucket)
    for row in rows:
        tags = ",".join(f"{k}={v}" for k, v in sorted(row["tags"].items()))
        out.write((json.dumps(row) if args.json else printable(f"{row['bytes']:>10}  {row['key']}  {tags}"))
                  + "\n")
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    from . import catalogue
    from .local import persist

    with _lambda_log(args.state / "lambda.log") as (out, log), _cloud(args, log) as cloud:
        result = catalogue.backfill(cloud, args.prefix, progress=_progress(out))
        persist.save(cloud, args.state)
    if args.json:
        out.write(json.dumps(result) + "\n")
        return 0
    out.write(printable(
        f"backfill {result['status']}: {result['sources']} sources, {result['rendered']} brought up to date, "
        f"{result['current']} already current, {result['skipped']} skipped {result['skippedBy']}, "
        f"{result['failed']} failed") + "\n")
    for failure in result["failures"]:
        out.write(printable(f"FAILED {failure['key']}: {failure['error']}") + "\n")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .local import persist
    from .report import contact_sheet, table
    from .runner import collect_uploads, run

    started = time.perf_counter()
    uploads = len(collect_uploads(args.paths))
    with _lambda_log(args.state / "lambda.log") as (out, log):
        with _cloud(args, log, uploads) as cloud:
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
            out.write(printable(f"ALERT {body.get('subject', '')}: {body.get('key')}: {body.get('cause')}")
                      + "\n")
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
        detail = printable(detail)
        ms = (ev["timestamp"] - t0).total_seconds() * 1000 if t0 else 0.0
        lines.append(f"{ms:8.1f} ms  {kind:<32} {detail}")
    return lines


def cmd_execute(args: argparse.Namespace) -> int:
    from .local import persist

    payload = json.loads(args.input.read_text(encoding="utf-8"))
    with _lambda_log(args.state / "lambda.log") as (out, log), _cloud(args, log, uploads=1) as cloud:
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
    out.write(f"execution {printable(arn)}\nstatus    {desc['status']}\n")
    if desc.get("error"):
        out.write(f"error     {printable(desc['error'])}\ncause     {printable(desc.get('cause'))}\n")
    if output is not None:
        out.write("output    " + json.dumps(output, indent=2) + "\n")
    for alert in alerts:
        out.write(f"alert     {printable(alert)}\n")
    out.write("history\n" + "\n".join(_history_lines(events)) + "\n")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .local import persist
    from .runner import collect_uploads, run
    from .serve import serving

    uploads = len(collect_uploads(args.paths)) if args.paths else 0
    with _lambda_log(args.state / "lambda.log") as (out, log), _cloud(args, log, uploads) as cloud:
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
    from . import cost
    from .local.cloud import LocalCloud
    from .runner import collect_uploads

    prices = cost.load_prices(args.prices)
    paths = args.paths or [REPO / "samples"]
    uploads = collect_uploads(paths)
    with _lambda_log(args.state / "lambda.log") as (out, log):
        counting = cost.CountingLog(log)  # what the handlers write, counted on its way to lambda.log
        fresh = LocalCloud(args.template, parameters=_params(args.param), definition_path=args.definition,
                           log=counting)
        with _started(fresh) as cloud:
            usage = cost.run_one_at_a_time(cloud, uploads, counting, prices)
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
    """Run one command. Called without ``argv`` it is the process's own entry point (the
    ``thumbflow`` script, ``python -m thumbflow.cli``): once the command is done and its output
    flushed, the process ends at once, skipping the interpreter's teardown (freeing the few
    hundred thousand objects moto and the SDK made: about a second, for nothing). The garbage
    collector waits until the local cloud has started (``gcpause``)."""
    global _ONE_SHOT
    if argv is None:
        _ONE_SHOT = True
        gc.disable()
        if len(sys.argv) > 1 and sys.argv[1] in _CLOUD_COMMANDS:
            forkserver.start_early()
    code = _command(argv)
    if argv is None:
        _exit_now(code)
    return code


_CLOUD_COMMANDS = ("run", "execute", "serve", "cost", "delete", "list", "backfill")  # each starts one


def _command(argv: Sequence[str] | None) -> int:
    from .local.template import TemplateError

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
        if args.command == "delete":
            return cmd_delete(args)
        if args.command == "list":
            return cmd_list(args)
        if args.command == "backfill":
            return cmd_backfill(args)
    except BrokenPipeError:  # `thumbflow list | head`: the reader left; that is not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the interpreter's final flush
        return 0
    except (TemplateError, FileNotFoundError) as exc:
        print(f"thumbflow: {exc}", file=sys.stderr)
        return 2
    return 2


def _exit_now(code: int) -> None:
    """Flush what was written, then end the process (local clouds are stopped by now)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing left to deliver
            stream.flush()
    logging.shutdown()
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
