"""Every AWS API request local mode makes: counted, and on demand refused.

moto answers the SDK's requests from a botocore ``before-send`` handler. This
module wraps that handler, so each request made in this process (by a Lambda
handler, by the Step Functions interpreter's integrations, or by the caller)
is recorded with its service, operation and who made it. That record is what
``thumbflow cost`` prices. The same place can answer a request with a service
error instead (``ServiceFault``): S3 SlowDown and 5xx, SNS outages, and so on,
exactly as the wire would carry them, so the SDK's own retries, the handlers'
error translation and the definition's Retry/Catch all see the real thing.

Two S3 rules moto does not keep are kept here, where every request passes: keys
are at most 1024 bytes of UTF-8 (``KeyTooLongError``), and a conditional
PutObject (If-Match / If-None-Match) is checked and applied as one step (moto
checks, then writes, so two racing writers could both win).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

# Who is calling: the logical id of the Lambda function whose handler runs on this thread.
_caller = threading.local()
STATES = "StepFunctions"  # requests made by the interpreter itself (integrations, Lambda invokes)
CLIENT = "client"  # requests made by whoever drives local mode (uploads, listings)


@dataclass(frozen=True)
class Request:
    """One API request, as the wire saw it."""

    service: str  # botocore's event name for the service: s3, sns, lambda, sfn, rekognition
    operation: str  # GetObject, Publish, Invoke, ...
    caller: str  # a function's logical id, STATES or CLIENT
    bucket: str = ""
    key: str = ""
    failed: bool = False  # answered by an injected fault


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
class Traffic:
    """The requests recorded and the faults armed, for one running local cloud."""

    requests: list[Request] = field(default_factory=list)
    faults: list[ServiceFault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def counts(self, caller: str | None = None) -> Counter[tuple[str, str]]:
        """(service, operation) -> number of requests, optionally for one caller."""
        with self._lock:
            return Counter(
                (r.service, r.operation) for r in self.requests if caller in (None, r.caller)
            )

    def snapshot(self) -> list[Request]:
        with self._lock:
            return list(self.requests)

    def _observe(self, request: Request) -> ServiceFault | None:
        with self._lock:
            fault = next((f for f in self.faults if f.matches(request)), None)
            if fault is not None:
                fault.fired += 1
                request = Request(**{**request.__dict__, "failed": True})
            self.requests.append(request)
            return fault


_active: Traffic | None = None
_installed = False
_install_lock = threading.Lock()

S3_MAX_KEY_BYTES = 1024
_KEY_TOO_LONG = ServiceFault("s3", code="KeyTooLongError", status=400, message="Your key is too long")
_conditional_writes = threading.Lock()  # S3 decides a conditional write atomically


def activate(traffic: Traffic | None) -> None:
    """Route this process's AWS requests through ``traffic`` (None: stop recording)."""
    global _active
    _active = traffic
    _install()


@contextmanager
def calling_as(caller: str) -> Iterator[None]:
    """Attribute requests made on this thread to ``caller`` (a function's logical id)."""
    previous = getattr(_caller, "name", None)
    _caller.name = caller
    try:
        yield
    finally:
        _caller.name = previous


def _current_caller() -> str:
    name = getattr(_caller, "name", None)
    if name:
        return name
    return STATES if _in_interpreter() else CLIENT


def _in_interpreter() -> bool:
    """True on a thread the Step Functions interpreter runs (its frames are on the stack)."""
    import sys

    frame = sys._getframe(2)
    while frame is not None:
        if "moto/stepfunctions/parser" in frame.f_code.co_filename.replace("\\", "/"):
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _bucket_key(service: str, url: str) -> tuple[str, str]:
    if service != "s3":
        return "", ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = unquote(parts.path)
    if host.endswith(".amazonaws.com") and not host.startswith("s3."):
        return host.split(".s3", 1)[0], path.lstrip("/")
    bucket, _, key = path.lstrip("/").partition("/")
    return bucket, key


def _error_response(request: Any, service: str, fault: ServiceFault) -> Any:
    """The bytes the service would send for this error, in its own protocol."""
    from botocore.awsrequest import AWSResponse
    from moto.core.botocore_stubber import MockRawResponse

    request_id = uuid.uuid4().hex
    headers = {"x-amzn-requestid": request_id, "x-amz-request-id": request_id}
    if service == "s3":
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f"<Error><Code>{fault.code}</Code><Message>{fault.message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        )
        headers["content-type"] = "application/xml"
    elif service in ("sns", "iam", "sts", "cloudformation"):
        body = (
            '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">'
            f"<Error><Type>Receiver</Type><Code>{fault.code}</Code>"
            f"<Message>{fault.message}</Message></Error><RequestId>{request_id}</RequestId>"
            "</ErrorResponse>"
        )
        headers["content-type"] = "text/xml"
    else:
        body = json.dumps({"__type": fault.code, "message": fault.message})
        headers["content-type"] = "application/x-amz-json-1.1"
        headers["x-amzn-errortype"] = fault.code
    return AWSResponse(request.url, fault.status, headers, MockRawResponse(body))


def _install() -> None:
    """Wrap moto's before-send handler once per process."""
    global _installed
    with _install_lock:
        if _installed:
            return
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__

        def __call__(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            traffic = _active
            if traffic is None or not self.enabled:
                return original(self, event_name, request, **kwargs)
            _, service, operation = [*event_name.split(".", 2), "", ""][:3]
            bucket, key = _bucket_key(service, request.url)
            seen = Request(service, operation, _current_caller(), bucket, key)
            fault = traffic._observe(seen)
            if fault is not None:
                return _error_response(request, service, fault)
            if service == "s3" and len(key.encode()) > S3_MAX_KEY_BYTES:
                return _error_response(request, service, _KEY_TOO_LONG)
            if service == "s3" and operation == "PutObject" and (
                "If-Match" in request.headers or "If-None-Match" in request.headers
            ):
                with _conditional_writes:
                    return original(self, event_name, request, **kwargs)
            return original(self, event_name, request, **kwargs)

        BotocoreStubber.__call__ = __call__  # type: ignore[method-assign]
        _installed = True
