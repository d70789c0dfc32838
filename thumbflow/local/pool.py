"""The parent's side of Lambda workers: one handle per worker process, one pool per function.

A handle sends an invocation to its worker and supervises it until the result
comes back: it serves the worker's AWS requests and log lines as they arrive, while
the ``limits.Watcher`` checks the worker's memory and time. A worker the watcher
killed ends as Lambda reports it: past MemorySize ``Runtime.OutOfMemory``, past
Timeout ``Sandbox.Timedout``; one that dies on its own (a segfault)
``Runtime.ExitError``. After a result the peak (VmHWM, reset before each invocation)
is checked too, so a short spike between two checks is not missed.

A pool keeps a function's idle workers for reuse (warm starts) and starts one when
all are busy, up to a cap; beyond the cap an invocation waits for a free worker,
or is throttled when the cap is the function's ReservedConcurrentExecutions. An
invocation that arrives while a worker is being prepared ahead (``prewarm``) waits for
that one rather than starting another: it began earlier, so it is ready sooner, and two
inits at once would only take turns on the same cores.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

from . import procfs
from .forkserver import ForkServer
from .limits import Running, Watcher

_SIGNAL_WORDS = {signal.SIGKILL: "killed", signal.SIGSEGV: "segmentation fault",
                 signal.SIGABRT: "aborted", signal.SIGBUS: "bus error", signal.SIGTERM: "terminated",
                 signal.SIGFPE: "floating point exception", signal.SIGILL: "illegal instruction"}

ServeAws = Callable[[str, str, str, str, list[tuple[str, str]], bytes], tuple[int, list[Any], bytes]]


class ThrottledError(Exception):
    """Lambda refused the invocation (TooManyRequestsException)."""


class InitFailed(Exception):
    """The worker could not initialise the function (import error and the like)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclass
class Outcome:
    """How one invocation ended."""

    body: bytes
    function_error: str | None  # "Unhandled" when the function failed
    error_type: str | None
    seconds: float
    cpu_seconds: float
    peak_rss: int
    alive: bool  # the worker can take another invocation
    sdk_seconds: float = 0.0  # the worker's wait for answers to its AWS requests
    served_seconds: float = 0.0  # this process's time answering them (the rest is the channel)


def exit_words(status: int | None) -> str:
    """A wait status as Lambda's runtime reports it: ``signal: killed``, ``exit status 1``."""
    if status is None:
        return "signal: killed"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return "signal: " + _SIGNAL_WORDS.get(sig, signal.Signals(sig).name.lower())
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def runtime_error(error_type: str, message: str, request_id: str) -> bytes:
    import json

    return json.dumps({"errorMessage": f"RequestId: {request_id} Error: {message}",
                       "errorType": error_type}).encode()


@dataclass
class WorkerHandle:
    """One worker process and its channel, as the parent sees them."""

    pid: int
    conn: Connection
    forkserver: ForkServer
    serve_aws: ServeAws
    log: Callable[[str], None]
    caller: str
    watcher: Watcher
    generation: int = 0
    invocations: int = 0
    init_seconds: float = 0.0
    served: float = 0.0  # seconds spent answering this worker's AWS requests, this invocation

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Serve the worker's init (logs, requests) until it says it is ready."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.conn.poll(0.05):
                continue
            message = self._recv()
            if message is None:
                raise InitFailed("Runtime.ExitError", "Runtime exited with error: "
                                 + exit_words(self.forkserver.exit_status(self.pid)))
            if message[0] == "ready":
                _, error, self.init_seconds = message
                if error is not None:
                    raise InitFailed(*error)
                return
            self._handle(message)
        self.kill()
        raise InitFailed("Runtime.Unknown", f"the worker did not initialise within {timeout:.0f} s")

    def invoke(self, request_id: str, payload: bytes, memory_mb: int, timeout_s: float) -> Outcome:
        running = self.watcher.watch(self.pid, memory_mb, timeout_s)
        try:
            return self._supervise(running, request_id, payload, memory_mb, timeout_s)
        finally:
            self.watcher.release(running)

    def _supervise(self, running: Running, request_id: str, payload: bytes, memory_mb: int,
                   timeout_s: float) -> Outcome:
        self.invocations += 1
        self.served = 0.0
        with contextlib.suppress(OSError):  # gone already: the receive below says how
            self.conn.send(("invoke", request_id, payload))
        while True:
            message = self._recv()
            if message is not None and message[0] != "result":
                self._handle(message)
                continue
            if running.verdict is not None or message is None:  # killed, or the process is gone
                status = self.forkserver.exit_status(self.pid)
                self.conn.close()
                if running.verdict == "memory":
                    return self._oom(request_id, running.started, running.cpu, running.peak)
                if running.verdict == "time":
                    return self._ended("Sandbox.Timedout", f"Task timed out after {timeout_s:.2f} seconds",
                                       request_id, running.started, running.cpu, running.peak)
                return self._ended("Runtime.ExitError", f"Runtime exited with error: {exit_words(status)}",
                                   request_id, running.started, running.cpu, running.peak)
            _, body, function_error, cpu, sdk = message
            peak = max(running.peak, procfs.peak_rss_bytes(self.pid))
            if peak > memory_mb * procfs.MIB:  # a spike between checks: Lambda would have killed it
                self.kill()
                return self._oom(request_id, running.started, cpu, peak)
            return Outcome(body, function_error, _error_type(body) if function_error else None,
                           time.perf_counter() - running.started, cpu, peak, alive=True, sdk_seconds=sdk,
                           served_seconds=self.served)

    def inspect(self) -> dict[str, Any]:
        self.conn.send(("inspect",))
        while True:
            message = self._recv()
            if message is None:
                raise InitFailed("Runtime.ExitError", "the worker ended while being inspected")
            if message[0] == "inspected":
                return dict(message[1])
            self._handle(message)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.forkserver.exit_status(self.pid, timeout=5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(("stop",))
        self.kill()

    # -- messages ------------------------------------------------------------------------------
    def _recv(self) -> tuple[Any, ...] | None:
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            return None

    def _handle(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "log":
            self.log(message[1])
        elif kind == "aws":
            _, event_name, method, url, headers, body = message
            started = time.perf_counter()
            answer = self.serve_aws(self.caller, event_name, method, url, headers, body)
            self.served += time.perf_counter() - started
            with contextlib.suppress(OSError):  # the worker is gone; the next receive sees it
                self.conn.send(answer)

    def _oom(self, request_id: str, started: float, cpu: float, peak: int) -> Outcome:
        body = runtime_error("Runtime.OutOfMemory", "Runtime exited with error: signal: killed",
                             request_id)
        return Outcome(body, "Unhandled", "Runtime.OutOfMemory", time.perf_counter() - started,
                       cpu, peak, alive=False)

    def _ended(self, error_type: str, message: str, request_id: str, started: float,
               cpu: float, peak: int) -> Outcome:
        return Outcome(runtime_error(error_type, message, request_id), "Unhandled", error_type,
                       time.perf_counter() - started, cpu, peak, alive=False)


def _error_type(body: bytes) -> str:
    import json

    try:
        return str(json.loads(body).get("errorType") or "Unhandled")
    except (ValueError, AttributeError):
        return "Unhandled"


@dataclass
class Pool:
    """A function's workers: idle ones are reused, new ones started up to ``cap``."""

    start: Callable[[], WorkerHandle]
    cap: int
    throttle_at_cap: bool  # the cap is ReservedConcurrentExecutions: Lambda throttles beyond it
    idle: list[WorkerHandle] = field(default_factory=list)
    live: set[int] = field(default_factory=set)
    everyone: dict[int, WorkerHandle] = field(default_factory=dict)
    generation: int = 0
    closed: bool = False
    starting: int = 0
    warming: int = 0  # of ``starting``, the workers ``prewarm`` is preparing
    promised: int = 0  # invocations waiting for one of those
    _cond: threading.Condition = field(default_factory=threading.Condition)

    def acquire(self) -> WorkerHandle:
        with self._cond:
            while True:
                if self.closed:
                    raise ThrottledError("the local cloud is stopping")
                while self.idle:
                    worker = self.idle.pop()  # the most recently used: warmest
                    if worker.generation == self.generation:
                        return worker
                    self._drop(worker)
                if self.warming > self.promised:  # one is being prepared for whoever comes first
                    self.promised += 1
                    try:
                        while self.warming and not self.idle and not self.closed:
                            self._cond.wait()
                    finally:
                        self.promised -= 1
                    continue
                if len(self.live) + self.starting < self.cap:
                    self.starting += 1
                    break
                if self.throttle_at_cap:
                    raise ThrottledError("Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded)")
                self._cond.wait()
            generation = self.generation
        return self._start_counted(generation)

    def _start_counted(self, generation: int) -> WorkerHandle:
        """Start a worker (``starting`` already counts it) and count it live."""
        try:
            worker = self.start()
        finally:
            with self._cond:
                self.starting -= 1
                self._cond.notify_all()
        with self._cond:
            worker.generation = generation
            self.live.add(worker.pid)
            self.everyone[worker.pid] = worker
        return worker

    def prewarm(self) -> None:
        """Start one more worker ahead of any invocation, unless the pool has ``cap`` already
        (Lambda may initialise an on-demand function's environment before a request arrives).
        An init that fails is forgotten: the invocation that needs a worker starts one and
        reports the error."""
        with self._cond:
            if self.closed or len(self.live) + self.starting >= self.cap:
                return
            self.starting += 1
            self.warming += 1
            generation = self.generation
        worker: WorkerHandle | None = None
        try:
            worker = self._start_counted(generation)
        except InitFailed:
            return
        finally:
            with self._cond:  # idle before it stops counting as warming: its waiter finds it
                self.warming -= 1
                if worker is not None:
                    self._release(worker, alive=True)
                self._cond.notify_all()

    def release(self, worker: WorkerHandle, alive: bool) -> None:
        with self._cond:
            self._release(worker, alive)
            self._cond.notify_all()

    def _release(self, worker: WorkerHandle, alive: bool) -> None:
        if alive and not self.closed and worker.generation == self.generation:
            self.idle.append(worker)
        else:
            self._drop(worker, kill=alive)

    def recycle(self) -> None:
        """New invocations get new workers (a cold start); idle ones go now, busy ones when done."""
        with self._cond:
            self.generation += 1
            for worker in self.idle:
                self._drop(worker)
            self.idle.clear()
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            workers = list(self.everyone.values())
            self.idle.clear()
            self._cond.notify_all()
        for worker in workers:
            worker.stop()

    def _drop(self, worker: WorkerHandle, kill: bool = True) -> None:
        self.live.discard(worker.pid)
        self.everyone.pop(worker.pid, None)
        if kill:
            worker.stop()
        else:
            worker.conn.close()
