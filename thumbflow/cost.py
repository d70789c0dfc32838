"""`thumbflow cost`: dollars per million images, priced from what a local run really did.

Nothing here is a guess about the workflow: state transitions come from each
execution's history, Lambda invocations and their CPU time from the in-process
Lambda workers, S3 and DynamoDB requests, SNS publishes and Rekognition calls from the
recorded API requests (``local.wire``), log bytes from what the handlers wrote. Only the step
from this machine to Lambda is a model, stated in ``lambda_billed_seconds``.
Prices come from one file (``prices.json``) that names its sources and date.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from .local.cloud import LocalCloud
from .local.lambdas import Invocation
from .local.wire import DRIVER, STATES

PRICES_PATH = Path(__file__).with_name("prices.json")
# START, END and REPORT: the lines Lambda itself writes to the log for every invocation.
PLATFORM_LOG_BYTES = 400
# Events Step Functions logs at level ERROR (the Express default here, see template.yaml).
_ERROR_EVENT_SUFFIXES = ("Failed", "TimedOut", "Aborted")
_TIER1_PREFIXES = ("Put", "Copy", "Post", "List", "Create", "Complete", "Upload", "Restore")
_FREE_S3 = ("DeleteObject", "DeleteObjects")  # S3 does not charge for deletes
# On-demand DynamoDB: a write of an item up to 1 KB is one write request unit, whether its
# condition holds or not; a strongly consistent read of up to 4 KB is one read request unit.
# The name claims (ownership.py) are far smaller, and every read of them is strongly consistent.
_DYNAMODB_WRITES = ("PutItem", "UpdateItem", "DeleteItem")
_DYNAMODB_READS = ("GetItem",)
SECONDS_PER_MONTH = 30 * 24 * 3600
DEFAULT_IMAGES_PER_MONTH = 1_000_000


class CountingLog:
    """stdout while handlers run: passed on to ``target``, counted as Lambda would ingest it."""

    def __init__(self, target: TextIO) -> None:
        self.target = target
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text.encode("utf-8"))
        return self.target.write(text)

    def flush(self) -> None:
        self.target.flush()

    def isatty(self) -> bool:
        return False


def load_prices(path: str | Path | None = None) -> dict[str, Any]:
    return json.loads(Path(path or PRICES_PATH).read_text(encoding="utf-8"))


@dataclass
class Usage:
    """What a run consumed, summed over its images."""

    images: int = 0
    executions: int = 0
    transitions: int = 0
    express_gb_seconds: float = 0.0
    express_log_bytes: int = 0
    lambda_requests: int = 0
    lambda_gb_seconds: float = 0.0
    lambda_log_bytes: int = 0
    s3_tier1: int = 0
    s3_tier2: int = 0
    dynamodb_write_units: int = 0
    dynamodb_read_units: int = 0
    sns_publishes: int = 0
    custom_events: int = 0  # thumbflow's own outcome events (PutEvents entries)
    emails: int = 0
    moderated: int = 0
    faces_detected: int = 0
    stored_bytes: int = 0
    # The X-Ray rule the workflow's executions match: the template's, else X-Ray's default.
    trace_reservoir_per_second: float | None = None
    trace_fixed_rate: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Line:
    """One item of the bill: how much per image, and dollars per million images."""

    item: str
    per_image: float
    unit: str
    standard: float
    express: float


def lambda_billed_seconds(inv: Invocation, prices: Mapping[str, Any]) -> float:
    """This machine's handler time, as Lambda would bill it at the function's memory size.

    Below ``mb_per_full_vcpu`` (1769 MB) Lambda gives a share of one vCPU in
    proportion to memory, so CPU-bound time stretches by that ratio; time not
    spent on the CPU (waiting on S3) does not. Billed per started millisecond.
    """
    lam = prices["lambda"]
    share = min(1.0, (inv.memory_mb or lam["mb_per_full_vcpu"]) / lam["mb_per_full_vcpu"])
    cpu = min(inv.cpu_seconds, inv.seconds)
    seconds = cpu / share + (inv.seconds - cpu)
    step = lam["duration_increment_ms"] / 1000
    return math.ceil(seconds / step) * step


def transitions(history: Sequence[Mapping[str, Any]]) -> int:
    """States entered, plus one per retry: what Standard workflows bill."""
    events = [str(e["type"]) for e in history]
    entered = sum(1 for t in events if t.endswith("StateEntered"))
    scheduled = sum(1 for t in events if t in ("TaskScheduled", "LambdaFunctionScheduled"))
    task_entries = sum(1 for t in events if t == "TaskStateEntered")
    return entered + max(0, scheduled - task_entries)


def _json_size(value: Any) -> int:
    return len(json.dumps(value, default=str, separators=(",", ":")).encode())


def express_gb_seconds(seconds: float, history: Sequence[Mapping[str, Any]], definition_bytes: int,
                       prices: Mapping[str, Any]) -> float:
    """Duration in 100 ms steps times memory in 64 MB chunks, as Express bills one execution.

    Memory is AWS's published estimate: 50 MB, plus the definition, plus the
    largest payload once per Map iteration.
    """
    sf = prices["stepfunctions"]
    payload = max((_json_size(e) for e in history), default=0)
    iterations = max(1, sum(1 for e in history if e["type"] == "MapIterationStarted"))
    memory_mb = sf["express_base_memory_mb"] + (definition_bytes + payload * iterations) / 2**20
    billed_mb = math.ceil(memory_mb / sf["express_memory_increment_mb"]) * sf["express_memory_increment_mb"]
    step = sf["express_duration_increment_ms"] / 1000
    billed_s = math.ceil(seconds / step) * step
    return billed_s * billed_mb / 1024


@contextmanager
def _logging_to(log: CountingLog) -> Iterator[None]:
    """Send the handlers' output to ``log`` while it runs, wherever their loggers pointed before.

    Powertools binds its handler to the stdout of the moment the module was
    imported, and Metrics prints to the current one: cover both.
    """
    service = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    streams = [h for h in service.handlers if isinstance(h, logging.StreamHandler)]
    saved = [h.stream for h in streams]  # may be closed already: swap, never flush it
    try:
        for handler in streams:
            handler.stream = log
        with redirect_stdout(log):  # type: ignore[type-var]
            yield
    finally:
        for handler, stream in zip(streams, saved, strict=True):
            handler.stream = stream


def run_one_at_a_time(cloud: LocalCloud, uploads: Sequence[tuple[Path, str]], log: CountingLog,
                      prices: Mapping[str, Any]) -> Usage:
    """Upload each file and wait for its execution before the next, then measure.

    One at a time, because handler durations measured while executions compete
    for this machine's cores would price contention, not work. ``cloud`` must be
    fresh (empty buckets), or reused thumbnails would be priced as free.
    """
    executions: list[str] = []
    start_bytes = log.bytes
    with _logging_to(log):
        for path, key in uploads:
            before = len(cloud.started)
            cloud.upload(key, path.read_bytes())
            for arn, _ in cloud.started[before:]:
                cloud.wait(arn)
                executions.append(arn)
    return measure(cloud, executions, len(uploads), log.bytes - start_bytes, prices)


def measure(cloud: LocalCloud, executions: Sequence[str], images: int, lambda_log_bytes: int,
            prices: Mapping[str, Any]) -> Usage:
    """Sum what the given executions of a fresh local cloud consumed."""
    usage = Usage(images=images, executions=len(executions), lambda_log_bytes=lambda_log_bytes)
    rule = workflow_sampling_rule(cloud.template, cloud.resolver.resolve)
    if rule is not None:
        usage.trace_reservoir_per_second, usage.trace_fixed_rate = rule
    invocations = list(cloud.lambdas.invocations)
    usage.lambda_requests = len(invocations)
    billed = [lambda_billed_seconds(inv, prices) for inv in invocations]
    usage.lambda_gb_seconds = sum(
        b * inv.memory_mb / 1024 for b, inv in zip(billed, invocations, strict=True)
    )
    usage.lambda_log_bytes += PLATFORM_LOG_BYTES * len(invocations)
    # Express runs the same states; its duration is this run's, with Lambda time as Lambda would take it.
    stretch = (sum(billed) - sum(inv.seconds for inv in invocations)) / max(1, len(executions))
    definition_bytes = _json_size(cloud.deployed.definition)
    for arn in executions:
        desc = cloud.describe(arn)
        history = cloud.history(arn)
        usage.transitions += transitions(history)
        wall = (desc["stopDate"] - desc["startDate"]).total_seconds()
        usage.express_gb_seconds += express_gb_seconds(wall + stretch, history, definition_bytes, prices)
        usage.express_log_bytes += sum(
            _json_size(e) for e in history if str(e["type"]).endswith(_ERROR_EVENT_SUFFIXES)
        )
    for request in cloud.wire.snapshot():
        if request.caller == DRIVER:
            continue
        if request.service == "s3":
            if request.operation in _FREE_S3:
                continue
            if request.operation.startswith(_TIER1_PREFIXES):
                usage.s3_tier1 += 1
            else:
                usage.s3_tier2 += 1
        elif request.service == "dynamodb" and request.operation in _DYNAMODB_WRITES:
            usage.dynamodb_write_units += 1
        elif request.service == "dynamodb" and request.operation in _DYNAMODB_READS:
            usage.dynamodb_read_units += 1
        elif request.service == "sns" and request.operation == "Publish" and request.caller == STATES:
            usage.sns_publishes += 1
        elif (request.service, request.operation, request.caller) == ("eventbridge", "PutEvents", STATES):
            usage.custom_events += 1  # the definition publishes one entry per call
        elif request.service == "rekognition" and request.operation == "DetectFaces":
            usage.faces_detected += 1  # FaceAwareCrops: the resize function asks for the focal point
        elif request.service == "rekognition":
            usage.moderated += 1
    sns = cloud.client("sns")
    emails = sum(1 for sub in sns.list_subscriptions_by_topic(TopicArn=cloud.deployed.topic_arn)
                 .get("Subscriptions", []) if sub.get("Protocol") == "email")
    usage.emails = usage.sns_publishes * emails  # AlertEmail set: one email per alert
    s3 = cloud.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=cloud.deployed.thumbnail_bucket):
        usage.stored_bytes += sum(int(obj["Size"]) for obj in page.get("Contents", []))
    return usage


def workflow_sampling_rule(template: Mapping[str, Any], resolve: Callable[[Any], Any]
                           ) -> tuple[float, float] | None:
    """(reservoir per second, fixed rate) of the template's X-Ray rule for Step Functions, if any."""
    for res in (template.get("Resources") or {}).values():
        if res.get("Type") != "AWS::XRay::SamplingRule":
            continue
        rule = resolve((res.get("Properties") or {}).get("SamplingRule") or {})
        if rule.get("ServiceType") == "AWS::StepFunctions::StateMachine":
            return float(rule.get("ReservoirSize", 0)), float(rule.get("FixedRate", 0))
    return None


def xray_sampled_fraction(images_per_month: float, prices: Mapping[str, Any],
                          reservoir_per_second: float | None = None,
                          fixed_rate: float | None = None) -> float:
    """Share of executions a sampling rule records at this upload rate (X-Ray's default rule
    unless one is given)."""
    xray = prices["xray"]
    per_second = xray["default_rule_reservoir_per_second"] if reservoir_per_second is None \
        else reservoir_per_second
    rate = xray["default_rule_fixed_rate"] if fixed_rate is None else fixed_rate
    reservoir = min(images_per_month, per_second * SECONDS_PER_MONTH)
    rest = images_per_month - reservoir
    return (reservoir + rate * rest) / max(1.0, images_per_month)


def bill(usage: Usage, prices: Mapping[str, Any],
         images_per_month: float = DEFAULT_IMAGES_PER_MONTH) -> list[Line]:
    """Dollars per million images for each item, under STANDARD and under EXPRESS.

    Only X-Ray depends on volume (a rule with a reservoir traces the first upload of every
    second): ``images_per_month`` says which volume to price it at.
    """
    n = max(1, usage.images)
    per_million = 1_000_000 / n
    sf, lam, s3, sns = prices["stepfunctions"], prices["lambda"], prices["s3"], prices["sns"]
    ddb = prices["dynamodb"]
    cw, xray, rek = prices["cloudwatch"], prices["xray"], prices["rekognition"]
    gb = 1024**3
    sampling = "default sampling" if usage.trace_fixed_rate is None else (
        f"sampling rule: {usage.trace_reservoir_per_second:g}/s then {usage.trace_fixed_rate:.0%}")

    def line(item: str, qty: float, unit: str, standard: float, express: float | None = None) -> Line:
        express_price = standard if express is None else express
        return Line(item, qty / n, unit, standard * qty * per_million, express_price * qty * per_million)

    lines = [
        line("Step Functions state transitions", usage.transitions, "transitions",
             sf["standard_per_state_transition"], 0.0),
        line("Step Functions Express requests", usage.executions, "requests", 0.0, sf["express_per_request"]),
        line("Step Functions Express duration", usage.express_gb_seconds, "GB-s", 0.0,
             sf["express_per_gb_second"]),
        line("Lambda requests", usage.lambda_requests, "requests", lam["per_request"]),
        line("Lambda duration (arm64)", usage.lambda_gb_seconds, "GB-s", lam["arm64_per_gb_second"]),
        line("S3 PUT/COPY/POST/LIST requests", usage.s3_tier1, "requests", s3["tier1_per_request"]),
        line("S3 GET/HEAD and other requests", usage.s3_tier2, "requests", s3["tier2_per_request"]),
        line("DynamoDB writes (name claims, on demand)", usage.dynamodb_write_units, "WRU",
             ddb["per_write_request_unit"]),
        line("DynamoDB reads (name claims, strongly consistent)", usage.dynamodb_read_units, "RRU",
             ddb["per_read_request_unit"]),
        line("SNS publishes (alerts)", usage.sns_publishes, "publishes", sns["per_publish"]),
        line("SNS email deliveries", usage.emails, "emails", sns["per_email_delivery"]),
        line("CloudWatch Logs, Lambda", usage.lambda_log_bytes / gb, "GB", cw["logs_ingestion_per_gb"]),
        line("CloudWatch Logs, Express executions (ERROR level)", usage.express_log_bytes / gb, "GB",
             0.0, cw["logs_ingestion_per_gb"]),
        line(f"X-Ray traces ({sampling}, {images_per_month:,.0f} images/month)",
             usage.executions * xray_sampled_fraction(images_per_month, prices,
                                                      usage.trace_reservoir_per_second,
                                                      usage.trace_fixed_rate), "traces",
             xray["per_trace_recorded"]),
        line("EventBridge (S3 events on the default bus)", usage.executions, "events",
             prices["eventbridge"]["per_s3_event_on_default_bus"]),
        line("EventBridge (thumbflow outcome events)", usage.custom_events, "events",
             prices["eventbridge"]["per_custom_event"]),
    ]
    if usage.moderated:
        lines.append(line("Rekognition moderation", usage.moderated, "images", rek["per_image_moderated"]))
    if usage.faces_detected:
        lines.append(line("Rekognition DetectFaces (FaceAwareCrops)", usage.faces_detected, "images",
                          rek["per_image_faces"]))
    return lines


def storage_per_month(usage: Usage, prices: Mapping[str, Any]) -> tuple[float, float]:
    """(thumbnail bytes per image, dollars per month to keep a million images' thumbnails)."""
    per_image = usage.stored_bytes / max(1, usage.images)
    return per_image, per_image * 1_000_000 / 1024**3 * prices["s3"]["standard_storage_per_gb_month"]


def report(usage: Usage, prices: Mapping[str, Any], source: str,
           images_per_month: float = DEFAULT_IMAGES_PER_MONTH) -> str:
    """The bill as a markdown table, with what it was measured on and priced with."""
    lines = bill(usage, prices, images_per_month)
    rows = [
        "| item | per image | STANDARD $/M images | EXPRESS $/M images |",
        "|---|---:|---:|---:|",
    ]
    for ln in lines:
        if ln.standard == 0 and ln.express == 0 and ln.per_image == 0:
            continue
        rows.append(f"| {ln.item} | {ln.per_image:.4g} {ln.unit} | {ln.standard:,.2f} | {ln.express:,.2f} |")
    total = totals(lines)
    rows.append(f"| **total** | | **{total['STANDARD']:,.2f}** | **{total['EXPRESS']:,.2f}** |")
    stored, monthly = storage_per_month(usage, prices)
    return "\n".join([
        f"Measured on {usage.images} images ({source}): {usage.executions} executions, "
        f"{usage.lambda_requests} Lambda invocations.",
        "",
        *rows,
        "",
        f"Thumbnails stored: {stored / 1024:,.1f} KiB per image, ${monthly:,.2f} per month per million "
        "images in S3 Standard (not in the totals).",
        f"Prices: {prices['region']}, as of {prices['as_of']} ({PRICES_PATH.name} or --prices); "
        "Lambda time is this machine's handler time scaled to each function's CPU share; the "
        "init phase of cold starts (billed too) is not included.",
    ])


def totals(lines: Sequence[Line]) -> dict[str, float]:
    """The bill's two sums: dollars per million images under each workflow type."""
    return {"STANDARD": sum(ln.standard for ln in lines), "EXPRESS": sum(ln.express for ln in lines)}
