"""An in-process Lambda runtime: call the template's real handlers the way Lambda does.

Local mode routes every Lambda invocation the state machine makes to the
handler named by the function's ``Handler`` and ``CodeUri``. Results and
errors are shaped exactly as the Lambda service returns them, so Retry and
Catch in the definition see the same error names they see in AWS.

Known limits (documented in the README): environment variables are process
wide, so functions must not disagree on one; timeouts are not enforced.
"""

from __future__ import annotations

import importlib
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .traffic import calling_as

THROTTLE = "TooManyRequestsException"


@dataclass
class Fault:
    """An injected failure: for drills and tests of retries and alerts.

    ``error`` is raised instead of calling the handler (an exception instance),
    or the string ``"throttle"`` for Lambda's own TooManyRequestsException.
    ``times`` bounds how often it fires (None: every time).
    """

    function: str
    error: BaseException | str
    when: Callable[[dict[str, Any]], bool] = lambda event: True
    times: int | None = None
    fired: int = 0


@dataclass
class LocalContext:
    """What Powertools and handlers read from the Lambda context object."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    timeout_s: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    """One AWS::Serverless::Function as local mode runs it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    memory_mb: int
    timeout_s: int
    _callable: Callable[[dict[str, Any], Any], Any] | None = None

    def load(self) -> Callable[[dict[str, Any], Any], Any]:
        """Import the handler module from CodeUri, once."""
        if self._callable is None:
            code_dir = str(self.code_dir.resolve())
            if code_dir not in sys.path:
                sys.path.insert(0, code_dir)
            module_name, _, attr = self.handler.rpartition(".")
            module = importlib.import_module(module_name.replace("/", "."))
            origin = Path(getattr(module, "__file__", "") or "").resolve()
            if code_dir not in str(origin):
                raise RuntimeError(
                    f"{self.logical_id}: module {module_name} was imported from {origin}, "
                    f"not from its CodeUri {code_dir} (two CodeUris reuse a module name)"
                )
            self._callable = getattr(module, attr)
        return self._callable


@dataclass
class Invocation:
    """A record of one invocation, for tests and the orchestration-share figure."""

    function: str
    seconds: float
    error: str | None
    cpu_seconds: float = 0.0  # CPU time of the handler's thread (what Lambda's share would scale)
    memory_mb: int = 0
    started: float = 0.0  # time.perf_counter() when the handler was called


class Runtime:
    """Dispatches invocations by function name or ARN to the loaded handlers."""

    def __init__(self) -> None:
        self.functions: dict[str, LocalFunction] = {}
        self.faults: list[Fault] = []
        self.invocations: list[Invocation] = []
        self._lock = threading.Lock()

    def add(self, fn: LocalFunction) -> None:
        self.functions[fn.name] = fn

    def find(self, name_or_arn: str) -> LocalFunction | None:
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        return self.functions.get(name)

    def _fault_for(self, fn: LocalFunction, event: dict[str, Any]) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.function not in (fn.logical_id, fn.name):
                    continue
                if fault.times is not None and fault.fired >= fault.times:
                    continue
                if fault.when(event):
                    fault.fired += 1
                    return fault
        return None

    def invoke(self, fn: LocalFunction, payload: bytes | str | None) -> tuple[bytes, str | None]:
        """Run the handler; return (response body, function error kind or None).

        Raises ``ThrottledError`` for an injected throttle, which the caller turns
        into the service error Lambda would return.
        """
        event = json.loads(payload or b"{}")
        fault = self._fault_for(fn, event)
        if fault is not None and fault.error == "throttle":
            raise ThrottledError(f"Rate exceeded for {fn.name} (injected)")
        ctx = LocalContext(fn.name, fn.arn, fn.memory_mb, fn.timeout_s)
        started = time.perf_counter()
        cpu_started = time.thread_time()
        error: str | None = None
        try:
            if fault is not None:
                assert isinstance(fault.error, BaseException)
                raise fault.error
            with calling_as(fn.logical_id):
                result = fn.load()(event, ctx)
            body = json.dumps(result).encode()
        except Exception as exc:
            error = type(exc).__name__
            body = json.dumps(
                {
                    "errorMessage": str(exc),
                    "errorType": error,
                    "requestId": ctx.aws_request_id,
                    "stackTrace": traceback.format_tb(exc.__traceback__),
                }
            ).encode()
        finally:
            elapsed = time.perf_counter() - started
            cpu = time.thread_time() - cpu_started
            with self._lock:
                self.invocations.append(
                    Invocation(fn.logical_id, elapsed, error, cpu, fn.memory_mb, started))
        return body, ("Unhandled" if error else None)


class ThrottledError(Exception):
    """Lambda refused the invocation (TooManyRequestsException)."""
