"""EventBridge rules with a Step Functions target, delivered as EventBridge delivers them.

moto raises NotImplementedError for ``states`` targets (on the S3 path a bare except
swallows it), so local mode does the delivery itself:

* S3 changes become the events S3 documents (``s3events``), sent to the rules of the
  default bus; moto's own event for the change is never built.
* A rule matches with EventBridge's documented pattern semantics (``patterns``), and
  a matching rule's Step Functions targets get StartExecution through the API, the
  event as input, as EventBridge does.
* A failed StartExecution is retried with exponential backoff and jitter within the
  target's RetryPolicy (time scaled by ``time_scale``) when the error is one retrying
  can fix (throttling, 5xx); otherwise, or once the policy is spent, the event goes to
  the target's dead-letter queue with the attributes EventBridge documents
  (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html).

The first attempt is made while the S3 request is served, so an upload has started
its execution when PutObject returns (EventBridge delivers within moments, not
synchronously); retries run on a thread of their own.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import s3events
from .patches import Patches
from .patterns import EventPattern
from .wire import Request, Wire, WireHook

DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_S = 86400
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 60.0
_RETRYABLE_CODES = frozenset({"ThrottlingException", "Throttling", "TooManyRequestsException",
                              "ExecutionLimitExceeded", "ServiceUnavailable", "InternalServerError",
                              "InternalFailure", "RequestTimeout"})

StartExecution = Callable[[str, dict[str, Any]], str]
DeadLetter = Callable[[str, str, dict[str, str]], None]  # queue ARN, body, attributes


@dataclass(repr=False, eq=False)
class Delivery:
    """Rule targets for Step Functions, and what they started."""

    wire: Wire
    start_execution: StartExecution
    dead_letter: DeadLetter
    account: str
    region: str
    time_scale: float = 1.0
    log: Callable[[str], None] = lambda line: None
    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    # Unversioned buckets that send to EventBridge (set by the deploy): a DeleteObject of a key
    # they do not hold still sends "Object Deleted" there, which moto does not do.
    unversioned_buckets: set[str] = field(default_factory=set)
    _reported: set[str] = field(default_factory=set)  # request ids an S3 event was sent for
    sequencer: s3events.Sequencer = field(default_factory=s3events.Sequencer)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _retries: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_patches(self, patches: Patches) -> None:
        from moto.events.models import Rule
        from moto.s3 import notifications

        original = Rule.send_to_targets

        def send_to_targets(rule: Any, event: dict[str, Any], transform_input: bool = True) -> None:
            self._rule_received(rule, event, transform_input, original)

        patches.add("events.s3-to-eventbridge", notifications, "_send_event_bridge_message",
                    self._s3_changed)
        patches.add("events.rule-targets", Rule, "send_to_targets", send_to_targets)
        self.wire.hooks.append(WireHook("s3", "DeleteObject", self._deleted, after=True))

    def _deleted(self, request: Request) -> None:
        """S3 sends Object Deleted for a DeleteObject even when the key held nothing."""
        if request.request_id in self._reported or request.bucket not in self.unversioned_buckets:
            self._reported.discard(request.request_id)
            return
        event = s3events.s3_event(
            "s3:ObjectRemoved:Delete", bucket=request.bucket, region=self.region, account=self.account,
            obj=s3events.ObjectFacts(request.key, None, None, None),
            request=s3events.RequestFacts("DeleteObject", request.request_id, self.account),
            sequencer=self.sequencer.next())
        self._to_rules(event)

    def pending(self) -> int:
        """Deliveries waiting for a retry (each becomes a start or a dead letter)."""
        with self._lock:
            return sum(1 for thread in self._retries if thread.is_alive())

    def stop(self) -> None:
        """Abandon pending retries (the local cloud is going away)."""
        self._stopping.set()
        for thread in list(self._retries):
            thread.join(timeout=5)

    # -- S3 -> EventBridge ----------------------------------------------------------------------
    def _s3_changed(self, account_id: str, bucket: Any, event_name: Any, key: Any) -> None:
        notification = str(getattr(event_name, "value", event_name))  # moto passes a str Enum
        current = self.wire.current()
        request = s3events.RequestFacts(
            operation=current.operation if current else "", request_id=current.request_id if current
            else "", requester=account_id)
        if key is None or not s3events.wanted(notification, request):
            return
        try:
            facts = s3events.ObjectFacts(
                key=key.name, size=getattr(key, "size", None), etag=getattr(key, "etag", None),
                version_id=str(key.version_id) if bucket.is_versioned else None)
            event = s3events.s3_event(notification, bucket=bucket.name, region=bucket.region_name,
                                      account=account_id, obj=facts, request=request,
                                      sequencer=self.sequencer.next())
            if current is not None and current.operation == "DeleteObject":
                self._reported.add(current.request_id)
            self._to_rules(event)
        except Exception as exc:  # S3 answers the request regardless; keep the error visible
            self.errors.append(exc)
            self.log(f"thumbflow local: S3 event delivery failed: {exc!r}\n")

    def _to_rules(self, event: dict[str, Any]) -> None:
        """What moto's own S3 path does with its event: every rule of the default bus sees it."""
        from moto.events.models import events_backends

        bus = events_backends[self.account][self.region].event_buses.get("default")
        for rule in list(bus.rules.values()) if bus is not None else []:
            rule.send_to_targets(event, transform_input=False)

    # -- rules ------------------------------------------------------------------------------------
    def _rule_received(self, rule: Any, event: dict[str, Any], transform_input: bool,
                       original: Callable[..., None]) -> None:
        event = _iso_time(event)  # moto's own events (PutEvents) carry an epoch float
        if rule.state != "ENABLED":
            return
        if not EventPattern(json.loads(rule.event_pattern.dump() or "{}")).matches(event):
            return
        states = [t for t in rule.targets if ":states:" in t.get("Arn", "")]
        others = [t for t in rule.targets if t not in states]
        if others:  # moto delivers the targets it implements (none in this template), as matched here
            from moto.events.models import EventPattern as MotoPattern

            rest = copy.copy(rule)
            rest.targets, rest.event_pattern = others, MotoPattern.load(None)
            original(rest, _epoch_time(event), transform_input)
        for target in states:
            self._attempt(rule.arn, target, event, attempt=0, first_seen=time.monotonic())

    def _attempt(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any], attempt: int,
                 first_seen: float) -> None:
        try:
            arn = self.start_execution(target["Arn"], event)
        except Exception as exc:
            self._failed(rule_arn, target, event, attempt, first_seen, exc)
            return
        with self._lock:
            self.started.append((arn, event))

    def _failed(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any], attempt: int,
                first_seen: float, exc: Exception) -> None:
        code, message, status = _error_of(exc)
        policy = target.get("RetryPolicy") or {}
        max_attempts = int(policy.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
        max_age = float(policy.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_S)) * self.time_scale
        exhausted: str | None = None
        if status >= 500 or code in _RETRYABLE_CODES:
            if attempt >= max_attempts:
                exhausted = "MaximumRetryAttempts"
            elif time.monotonic() - first_seen >= max_age:
                exhausted = "MaximumEventAgeInSeconds"
            elif not self._stopping.is_set():
                self._retry_later(rule_arn, target, event, attempt + 1, first_seen)
                return
        queue = (target.get("DeadLetterConfig") or {}).get("Arn")
        if not queue:
            return  # EventBridge drops it (the EventsDropped metric would count it)
        attributes = {"RULE_ARN": rule_arn, "TARGET_ARN": target["Arn"], "ERROR_CODE": code,
                      "ERROR_MESSAGE": message[:256], "RETRY_ATTEMPTS": str(attempt)}
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        try:
            self.dead_letter(queue, json.dumps(event), attributes)
        except Exception as dlq_exc:  # InvocationsFailedToBeSentToDLQ
            self.errors.append(dlq_exc)

    def _retry_later(self, rule_arn: str, target: dict[str, Any], event: dict[str, Any], attempt: int,
                     first_seen: float) -> None:
        delay = random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))) * self.time_scale

        def later() -> None:
            if not self._stopping.wait(delay):
                self._attempt(rule_arn, target, event, attempt, first_seen)

        thread = threading.Thread(target=later, name="thumbflow-eventbridge-retry", daemon=True)
        with self._lock:
            self._retries[:] = [t for t in self._retries if t.is_alive()]
            self._retries.append(thread)
        thread.start()


def _iso_time(event: dict[str, Any]) -> dict[str, Any]:
    when = event.get("time")
    if isinstance(when, int | float):
        stamp = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {**event, "time": stamp}
    return event


def _epoch_time(event: dict[str, Any]) -> dict[str, Any]:
    """moto's targets expect ``time`` as the epoch float its own events carry (and write ISO)."""
    when = event.get("time")
    if isinstance(when, str):
        parsed = dt.datetime.strptime(when, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        return {**copy.deepcopy(event), "time": parsed.timestamp()}
    return copy.deepcopy(event)


def _error_of(exc: Exception) -> tuple[str, str, int]:
    response = getattr(exc, "response", None) or {}
    error = response.get("Error") or {}
    status = int((response.get("ResponseMetadata") or {}).get("HTTPStatusCode", 0) or 0)
    return str(error.get("Code") or type(exc).__name__), str(error.get("Message") or exc), status
