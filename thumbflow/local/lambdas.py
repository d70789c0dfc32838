"""The Lambda stand-in: every invocation runs the real handler in a worker process, as Lambda does.

Local mode routes every Lambda invocation (the state machine's, the local function
URL's, a test's) here. Each function has its own pool of worker processes
(``pool.Pool``): its own environment (the template's Globals and Environment, plus
the variables Lambda sets), its own module state and Powertools logger and metrics,
one invocation at a time per worker, warm reuse, and its MemorySize and Timeout
enforced. Results and errors are shaped exactly as the Lambda service returns them,
so Retry and Catch in the definition see the error names they see in AWS.

Test hooks live here too, because handlers no longer run in the test's process:
``Fault`` answers an invocation before any worker is called, ``before`` runs a
callable in this process ahead of a function's invocations, ``environment``
overrides variables for new workers.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .forkserver import ForkServer
from .limits import Watcher
from .pool import InitFailed, Pool, ServeAws, ThrottledError, WorkerHandle

__all__ = ["Fault", "FunctionSpec", "Invocation", "Lambdas", "ThrottledError"]

DEFAULT_CAP = 8  # workers per function without ReservedConcurrentExecutions (the Map's MaxConcurrency)
THROTTLE = "TooManyRequestsException"


@dataclass
class Fault:
    """An injected failure, answered before any worker is called: drills and tests.

    ``error`` is returned as the function's error (an exception instance: its class
    name is the errorType, its text the errorMessage), or the string ``"throttle"``
    for Lambda's own TooManyRequestsException. ``times`` bounds how often it fires.
    """

    function: str
    error: BaseException | str
    when: Callable[[dict[str, Any]], bool] = lambda event: True
    times: int | None = None
    fired: int = 0


@dataclass(frozen=True)
class FunctionSpec:
    """One AWS::Serverless::Function as local mode runs it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    memory_mb: int
    timeout_s: int
    environment: Mapping[str, str]  # the worker's whole environment
    reserved_concurrency: int | None = None


@dataclass
class Invocation:
    """A record of one invocation, for tests, ``thumbflow cost`` and the bench."""

    function: str
    seconds: float
    error: str | None  # the errorType, None on success
    cpu_seconds: float = 0.0  # the worker's CPU time (what Lambda's vCPU share would scale)
    memory_mb: int = 0
    started: float = 0.0  # time.perf_counter() when a worker began running it (after any wait for one)
    peak_rss_mb: float = 0.0
    request_id: str = ""
    cold: bool = False  # the worker's first invocation
    init_seconds: float = 0.0  # the worker's start (fork + handler import), on a cold start
    worker_pid: int = 0
    sdk_seconds: float = 0.0  # the handler's wait for answers to its AWS requests
    channel_seconds: float = 0.0  # of which the worker channel (IPC), not moto answering


class Lambdas:
    """Dispatches invocations by function name or ARN to worker pools."""

    def __init__(self, forkserver: ForkServer, serve_aws: ServeAws, log: Callable[[str], None],
                 time_scale: float = 1.0, default_cap: int = DEFAULT_CAP) -> None:
        self.forkserver = forkserver
        self.serve_aws = serve_aws
        self.log = log
        self.time_scale = time_scale
        self.default_cap = default_cap
        self.functions: dict[str, FunctionSpec] = {}  # by logical id
        self.faults: list[Fault] = []
        self.invocations: list[Invocation] = []
        self.spawn_seconds: list[float] = []  # each worker's start: fork, init, ready
        self.hook_errors: list[BaseException] = []
        self._pools: dict[str, Pool] = {}
        self._before: dict[str, list[Callable[[dict[str, Any]], None]]] = {}
        self._overrides: dict[str, dict[str, str]] = {}
        self._lock = threading.Lock()
        self._prewarming: list[threading.Thread] = []
        self.watcher = Watcher()

    # -- functions -----------------------------------------------------------------------------
    def add(self, spec: FunctionSpec) -> None:
        self.functions[spec.logical_id] = spec
        cap = spec.reserved_concurrency or self.default_cap
        self._pools[spec.logical_id] = Pool(lambda s=spec: self._start(s), cap,
                                            throttle_at_cap=spec.reserved_concurrency is not None)

    def prewarm(self, logical_id: str, count: int = 1) -> None:
        """Initialise ``count`` execution environments of the function in the background, ahead
        of its first invocations (not for a function with reserved concurrency: the workers
        starting would count against it)."""
        spec = self.functions[logical_id]
        if spec.reserved_concurrency is not None:
            return
        pool = self._pools[logical_id]

        def warm() -> None:
            try:
                pool.prewarm()
            except Exception as exc:  # the fork server stopping, say: the invocation will tell
                self.log(f"thumbflow local: could not prepare {spec.name} ahead: {exc!r}\n")

        for n in range(count):
            thread = threading.Thread(target=warm, name=f"thumbflow-prewarm-{logical_id}-{n}", daemon=True)
            with self._lock:
                self._prewarming.append(thread)
            thread.start()

    def find(self, name_or_arn: str) -> FunctionSpec | None:
        """By logical id, function name, or (qualified) function ARN."""
        name = name_or_arn.split(":function:")[-1].split(":")[0]
        if name in self.functions:
            return self.functions[name]
        return next((f for f in self.functions.values() if f.name == name), None)

    # -- invoking ------------------------------------------------------------------------------
    def invoke(self, fn: FunctionSpec, payload: bytes | str | None) -> tuple[bytes, str | None]:
        """Run one invocation; return (response body, function error kind or None).

        Raises ``ThrottledError`` for a throttle (injected, or beyond reserved
        concurrency), which the caller turns into the service error Lambda returns.
        """
        raw = payload.encode() if isinstance(payload, str) else (payload or b"{}")
        event = json.loads(raw)
        fault = self._fault_for(fn, event)
        if fault is not None and fault.error == "throttle":
            raise ThrottledError(f"Rate Exceeded. ({fn.name}, injected)")
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        if fault is not None:
            assert isinstance(fault.error, BaseException)
            error_type = type(fault.error).__name__
            body = json.dumps({"errorMessage": str(fault.error), "errorType": error_type,
                               "requestId": request_id, "stackTrace": []}).encode()
            self._record(Invocation(fn.logical_id, time.perf_counter() - started, error_type,
                                    memory_mb=fn.memory_mb, started=started, request_id=request_id))
            return body, "Unhandled"
        self._run_before(fn, event)
        pool = self._pools[fn.logical_id]
        try:
            worker = pool.acquire()
        except InitFailed as exc:
            self._record(Invocation(fn.logical_id, 0.0, exc.error_type, memory_mb=fn.memory_mb,
                                    started=started, request_id=request_id))
            return json.dumps({"errorMessage": str(exc), "errorType": exc.error_type,
                               "requestId": request_id, "stackTrace": []}).encode(), "Unhandled"
        cold = worker.invocations == 0
        outcome = worker.invoke(request_id, raw, fn.memory_mb, float(fn.timeout_s))
        ran_from = time.perf_counter() - outcome.seconds  # the run itself, not the wait for a worker
        pool.release(worker, outcome.alive)
        self._record(Invocation(fn.logical_id, outcome.seconds, outcome.error_type, outcome.cpu_seconds,
                                fn.memory_mb, ran_from, outcome.peak_rss / (1024 * 1024), request_id,
                                cold, worker.init_seconds if cold else 0.0, worker.pid, outcome.sdk_seconds,
                                max(0.0, outcome.sdk_seconds - outcome.served_seconds)))
        return outcome.body, outcome.function_error

    def _fault_for(self, fn: FunctionSpec, event: dict[str, Any]) -> Fault | None:
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

    def _record(self, invocation: Invocation) -> None:
        with self._lock:
            self.invocations.append(invocation)

    # -- workers -------------------------------------------------------------------------------
    def _start(self, spec: FunctionSpec) -> WorkerHandle:
        started = time.perf_counter()
        env = {**spec.environment, **self._overrides.get(spec.logical_id, {})}
        pid, sock = self.forkserver.spawn({
            "name": spec.name, "arn": spec.arn, "handler": spec.handler,
            "task_root": str(spec.code_dir), "env": env, "memory_mb": spec.memory_mb,
            "timeout_s": spec.timeout_s, "time_scale": self.time_scale})
        worker = WorkerHandle(pid, Connection(sock.detach()), self.forkserver, self.serve_aws,
                              self.log, spec.logical_id, self.watcher)
        try:
            worker.wait_ready()
        except InitFailed:
            worker.kill()
            raise
        with self._lock:
            self.spawn_seconds.append(time.perf_counter() - started)
        return worker

    def recycle(self, function: str | None = None) -> None:
        """Start from cold: the next invocations get new workers (all functions, or one)."""
        for logical_id, pool in self._pools.items():
            if function in (None, logical_id):
                pool.recycle()

    def inspect(self, function: str) -> dict[str, Any]:
        """What a worker of this function sees: its environment, sys.path, pid, loaded modules."""
        pool = self._pools[function]
        worker = pool.acquire()
        try:
            return worker.inspect()
        finally:
            pool.release(worker, alive=True)

    def worker_pids(self, function: str) -> set[int]:
        return set(self._pools[function].live)

    def stop(self) -> None:
        with self._lock:
            prewarming, self._prewarming = self._prewarming, []
        for thread in prewarming:
            thread.join(timeout=10)
        for pool in self._pools.values():
            pool.close()
        self.watcher.stop()

    # -- test hooks ----------------------------------------------------------------------------
    @contextmanager
    def before(self, function: str, run: Callable[[dict[str, Any]], None]) -> Iterator[None]:
        """Call ``run(event)`` in this process ahead of every invocation of ``function``.

        An exception ``run`` raises is raised here, when the block ends.
        """
        with self._lock:
            self._before.setdefault(function, []).append(run)
            errors_before = len(self.hook_errors)
        try:
            yield
        finally:
            with self._lock:
                self._before[function].remove(run)
                errors = self.hook_errors[errors_before:]
        if errors:
            raise errors[0]

    def _run_before(self, fn: FunctionSpec, event: dict[str, Any]) -> None:
        with self._lock:
            hooks = list(self._before.get(fn.logical_id, ()))
        for run in hooks:
            try:
                run(event)
            except BaseException as exc:
                with self._lock:
                    self.hook_errors.append(exc)

    @contextmanager
    def environment(self, function: str, **variables: str) -> Iterator[None]:
        """These variables for ``function``'s new workers during the block, as an update of
        the function's configuration would: existing workers are replaced, before and after."""
        self._overrides[function] = {**self._overrides.get(function, {}), **variables}
        self.recycle(function)
        try:
            yield
        finally:
            self._overrides.pop(function, None)
            self.recycle(function)
