"""Every AWS API request local mode serves: recorded, hooked, and on demand refused.

All requests reach moto through here, whoever makes them: a Lambda function (its
worker process ships each request over its channel, so the caller is the
function's logical id), the Step Functions interpreter's integrations (clients
made with the ``STATES`` access key), EventBridge's deliveries (``EVENTS``) and
whoever drives local mode (``DRIVER``: ``LocalCloud.client``). Each request is
recorded with its service, operation and caller; that record is what ``thumbflow
cost`` prices. The same place can answer a request with a service error instead
(``ServiceFault``): S3 SlowDown and 5xx, SNS outages, and so on, exactly as the
wire would carry them, so the SDK's retries, the handlers' error translation and
the definition's Retry/Catch all see the real thing. Tests can run code of their
own just before a request is served (``WireHook``).

Two S3 rules moto does not keep are kept here, where every request passes: keys
are at most 1024 bytes of UTF-8 (``KeyTooLongError``), and a conditional
PutObject or DeleteObject (If-Match / If-None-Match) is checked and applied as one
step (moto checks, then writes, so two racing writers could both win). DynamoDB's item
writes are serialised the same way: moto evaluates a ConditionExpression, then writes, so
two PutItems with ``attribute_not_exists`` racing on one key could both succeed, where
DynamoDB lets exactly one.
"""

from __future__ import annotations

import io
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse

STATES = "StepFunctions"  # the interpreter: its task integrations and Lambda invokes
EVENTS = "EventBridge"  # rule deliveries (StartExecution, dead-letter SendMessage)
DRIVER = "driver"  # whoever drives local mode: uploads, listings, test set-up
UNATTRIBUTED = "unattributed"  # a client local mode did not make (a test's own boto3 client)

S3_MAX_KEY_BYTES = 1024
# DynamoDB's item writes: each is atomic in DynamoDB, condition and write alike.
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

Answer = Callable[[str, Any], "AWSResponse | None"]


@dataclass(frozen=True)
class Request:
    """One API request, as the wire saw it."""

    service: str  # botocore's event name for the service: s3, sns, lambda, sfn, rekognition
    operation: str  # GetObject, Publish, Invoke, ...
    caller: str  # a function's logical id, STATES, EVENTS, DRIVER or UNATTRIBUTED
    bucket: str = ""
    key: str = ""
    failed: bool = False  # answered by an injected fault
    request_id: str = ""


@dataclass
class ServiceFault:
    """Answer matching requests with a service error instead of serving them.

    ``operation`` None matches every operation of the service. ``times`` bounds
    how often it fires (None: until removed). ``when`` sees the request.
    """

    service: str
    operation: str | None = None
    code: str = "SlowDown"
    status: int = 503
    message: str = "Please reduce your request rate. (injected)"
    when: Callable[[Request], bool] = lambda request: True
    times: int | None = None
    fired: int = 0

    def matches(self, request: Request) -> bool:
        if request.service != self.service:
            return False
        if self.operation is not None and request.operation != self.operation:
            return False
        if self.times is not None and self.fired >= self.times:
            return False
        return self.when(request)


@dataclass
class WireHook:
    """Run ``run(request)`` in this process just before matching requests are served
    (``after``: just after they were answered, before the caller gets the answer).

    ``operation`` and ``caller`` None match every one; ``when`` may look at bucket and
    key. ``times`` bounds how often it runs (None: every match).
    """

    service: str
    operation: str | None
    run: Callable[[Request], None]
    caller: str | None = None
    when: Callable[[Request], bool] = lambda request: True
    times: int | None = None
    after: bool = False
    fired: int = 0

    def matches(self, request: Request, after: bool) -> bool:
        return (self.after == after and request.service == self.service
                and self.operation in (None, request.operation) and self.caller in (None, request.caller)
                and (self.times is None or self.fired < self.times) and self.when(request))


class RawBody(io.BytesIO):
    """A response body botocore can read and stream (what urllib3 would hand it)."""

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        while chunk := self.read(1 << 16):
            yield chunk


def split_event_name(event_name: str) -> tuple[str, str]:
    """``before-send.s3.PutObject`` -> (s3, PutObject)."""
    _, service, operation = [*event_name.split(".", 2), "", ""][:3]
    return service, operation


def bucket_and_key(service: str, url: str) -> tuple[str, str]:
    """The bucket and key an S3 request names (virtual-hosted or path style)."""
    if service != "s3":
        return "", ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = unquote(parts.path)
    if host.endswith(".amazonaws.com") and not host.startswith("s3."):
        return host.split(".s3", 1)[0], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def error_response(url: str, service: str, code: str, status: int, message: str,
                   request_id: str) -> AWSResponse:
    """The bytes the service would send for this error, in its own protocol."""
    headers = {"x-amzn-requestid": request_id, "x-amz-request-id": request_id}
    if service == "s3":
        body = ('<?xml version="1.0" encoding="UTF-8"?>'
                f"<Error><Code>{code}</Code><Message>{message}</Message>"
                f"<RequestId>{request_id}</RequestId></Error>")
        headers["content-type"] = "application/xml"
    elif service in ("sns", "sqs", "iam", "sts", "cloudformation"):
        body = ('<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
                f"<Error><Type>Receiver</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>")
        headers["content-type"] = "text/xml"
    else:
        body = json.dumps({"__type": code, "message": message})
        headers["content-type"] = "application/x-amz-json-1.1"
        headers["x-amzn-errortype"] = code
    return AWSResponse(url, status, headers, RawBody(body.encode()))


def access_key_of(headers: Any) -> str:
    """The access key id a SigV4-signed request names in its Authorization header."""
    auth = headers.get("Authorization") or headers.get("authorization") or ""
    if isinstance(auth, bytes):
        auth = auth.decode("latin-1")
    match = _CREDENTIAL.search(auth)
    return match.group(1) if match else ""


@dataclass(repr=False, eq=False)
class Wire:
    """The requests recorded, the callers known, the faults and hooks armed."""

    requests: list[Request] = field(default_factory=list)
    faults: list[ServiceFault] = field(default_factory=list)
    hooks: list[WireHook] = field(default_factory=list)
    callers: dict[str, str] = field(default_factory=dict)  # access key id -> caller
    hook_errors: list[BaseException] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _conditional_writes: threading.Lock = field(default_factory=threading.Lock)
    _context: threading.local = field(default_factory=threading.local)

    # -- reading the record ----------------------------------------------------------------
    def counts(self, caller: str | None = None) -> Counter[tuple[str, str]]:
        """(service, operation) -> number of requests, optionally for one caller."""
        with self._lock:
            return Counter((r.service, r.operation) for r in self.requests if caller in (None, r.caller))

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def current(self) -> Request | None:
        """The request being served on this thread (S3 events name its operation and id)."""
        stack = getattr(self._context, "stack", None)
        return stack[-1] if stack else None

    # -- callers -----------------------------------------------------------------------------
    def caller_of(self, headers: Any) -> str:
        return self.callers.get(access_key_of(headers), UNATTRIBUTED)

    # -- hooks -------------------------------------------------------------------------------
    @contextmanager
    def hooked(self, *hooks: WireHook) -> Iterator[None]:
        """Arm these hooks for the block; an exception one of them raised is raised at the end."""
        with self._lock:
            self.hooks.extend(hooks)
            errors_before = len(self.hook_errors)
        try:
            yield
        finally:
            with self._lock:
                self.hooks[:] = [h for h in self.hooks if all(h is not mine for mine in hooks)]
                errors = self.hook_errors[errors_before:]
        if errors:
            raise errors[0]

    def _run_hooks(self, request: Request, after: bool = False) -> None:
        with self._lock:
            due = [h for h in self.hooks if h.matches(request, after)]
            for hook in due:
                hook.fired += 1
        for hook in due:  # outside the lock: a hook makes requests of its own
            try:
                hook.run(request)
            except BaseException as exc:
                with self._lock:
                    self.hook_errors.append(exc)

    # -- serving -----------------------------------------------------------------------------
    def serve(self, event_name: str, request: Any, caller: str, answer: Answer) -> AWSResponse | None:
        """Record the request, run hooks, then answer it: a fault, S3's own rules, or ``answer``."""
        service, operation = split_event_name(event_name)
        bucket, key = bucket_and_key(service, request.url)
        seen = Request(service, operation, caller, bucket, key, request_id=uuid.uuid4().hex.upper()[:16])
        self._run_hooks(seen)
        with self._lock:
            fault = next((f for f in self.faults if f.matches(seen)), None)
            if fault is not None:
                fault.fired += 1
            self.requests.append(replace(seen, failed=fault is not None))
        if fault is not None:
            return error_response(request.url, service, fault.code, fault.status, fault.message,
                                  seen.request_id)
        if service == "s3" and len(key.encode("utf-8", "surrogatepass")) > S3_MAX_KEY_BYTES:
            return error_response(request.url, service, "KeyTooLongError", 400,
                                  "Your key is too long", seen.request_id)
        stack = self._context.__dict__.setdefault("stack", [])
        stack.append(seen)
        try:
            conditional = operation in ("PutObject", "DeleteObject") and _conditional(request.headers)
            if (service == "s3" and conditional) or (service == "dynamodb" and operation in DYNAMODB_WRITES):
                with self._conditional_writes:  # S3 and DynamoDB decide a conditional write atomically
                    response = answer(event_name, request)
            else:
                response = answer(event_name, request)
        finally:
            stack.pop()
        if response is not None and service == "s3":
            response.headers["x-amz-request-id"] = seen.request_id  # the id S3 events carry
        self._run_hooks(seen, after=True)
        return response


def _conditional(headers: Any) -> bool:
    return any(name in headers for name in ("If-Match", "If-None-Match", "if-match", "if-none-match"))
