"""Start Lambda workers cheaply: fork them from a process that has the SDK imported already.

``python -m thumbflow.local.forkserver FD`` imports what every worker needs (boto3,
Pillow, Powertools: ``worker.PRELOAD``, never moto), then forks one child per
request it gets on its control socket. The child becomes a worker (``worker.run``)
on a fresh socket pair, whose other end goes back to the parent with the child's
pid. Starting a worker is then a fork plus the handler's import, which is what
Lambda's cold init is. The fork server reaps its children and reports each exit
status, so the parent can tell a segfault from a kill. It exits, killing its
children, when the parent closes the control socket.

Parent side: ``ForkServer``. A command that will start a local cloud can start its fork
server first thing (``start_early``), before importing moto and the SDK itself: the two sets
of imports then run on two cores, and the cloud takes that server (``take_early``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

_MAX_MESSAGE = 1 << 20


class ForkServerError(RuntimeError):
    """The fork server could not be started or did not answer."""


class ForkServer:
    """The parent's handle on its fork server process."""

    def __init__(self, output: Callable[[str], None] | None) -> None:
        self._output = output  # where the workers' native stdout/stderr lines go (None: kept)
        self._kept: list[str] = []  # lines before there was an output (``attach``)
        self._output_lock = threading.Lock()
        self._control: socket.socket | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._spawn_lock = threading.Lock()
        self._replies: list[tuple[Any, int | None]] = []
        self._exits: dict[int, int] = {}
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._ready = False

    def start(self) -> None:
        """Start the server process; it becomes ready while the caller does other work."""
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        read_fd, write_fd = os.pipe()
        root = str(Path(__file__).resolve().parents[2])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "PYTHONPATH": root, "PYTHONDONTWRITEBYTECODE": "1"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "thumbflow.local.forkserver", str(child.fileno())],
            pass_fds=[child.fileno()], stdin=subprocess.DEVNULL, stdout=write_fd, stderr=write_fd,
            env=env, close_fds=True, start_new_session=True)
        child.close()
        os.close(write_fd)
        self._control = parent
        for target, arg in ((self._read_control, None), (self._relay_output, read_fd)):
            thread = threading.Thread(target=target, args=() if arg is None else (arg,), daemon=True,
                                      name="thumbflow-forkserver")
            thread.start()
            self._threads.append(thread)
        self._ready = False  # its imports take a few tenths of a second: waited for at the first spawn

    def spawn(self, config: dict[str, Any]) -> tuple[int, socket.socket]:
        """Fork a worker for ``config``; returns its pid and the parent's end of its channel."""
        if self._control is None:
            raise ForkServerError("the fork server is not running")
        with self._spawn_lock:
            if not self._ready:
                reply, _ = self._next_reply(timeout=60)
                if reply != ("ready",):
                    raise ForkServerError(f"the fork server did not start: {reply!r}")
                self._ready = True
            self._control.send(pickle.dumps(("spawn", config)))
            reply, fd = self._next_reply(timeout=60)
        if not (isinstance(reply, tuple) and reply[0] == "spawned") or fd is None:
            raise ForkServerError(f"the fork server could not start a worker: {reply!r}")
        return int(reply[1]), socket.socket(fileno=fd)

    def exit_status(self, pid: int, timeout: float = 2.0) -> int | None:
        """The wait status of a worker that ended (None if it has not been seen ending)."""
        with self._cond:
            self._cond.wait_for(lambda: pid in self._exits, timeout=timeout)
            return self._exits.get(pid)

    def stop(self) -> None:
        if self._control is not None:
            # shutdown, not just close: it wakes the reader thread and tells the server
            with contextlib.suppress(OSError):
                self._control.shutdown(socket.SHUT_RDWR)
            self._control.close()
            self._control = None
        if self._process is not None:
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    # -- threads ------------------------------------------------------------------------------
    def _next_reply(self, timeout: float) -> tuple[Any, int | None]:
        with self._cond:
            if not self._cond.wait_for(lambda: bool(self._replies) or self._control is None,
                                       timeout=timeout):
                raise ForkServerError("the fork server did not answer")
            if not self._replies:
                raise ForkServerError("the fork server is gone")
            return self._replies.pop(0)

    def _read_control(self) -> None:
        control = self._control
        assert control is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(control, _MAX_MESSAGE, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                with self._cond:
                    self._cond.notify_all()
                return
            message = pickle.loads(data)
            with self._cond:
                if message[0] == "exited":
                    self._exits[int(message[1])] = int(message[2])
                else:
                    self._replies.append((message, fds[0] if fds else None))
                self._cond.notify_all()

    def attach(self, output: Callable[[str], None]) -> None:
        """Where output goes from now on; what came before goes there first."""
        with self._output_lock:
            for line in self._kept:
                output(line)
            self._kept.clear()
            self._output = output

    @property
    def started(self) -> bool:
        return self._process is not None

    def _relay_output(self, fd: int) -> None:
        with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as pipe:
            for line in pipe:
                line = line if line.endswith("\n") else line + "\n"
                with self._output_lock:
                    if self._output is None:
                        self._kept.append(line)
                    else:
                        self._output(line)


_early: ForkServer | None = None
_early_lock = threading.Lock()


def start_early() -> None:
    """Start a fork server now, for this process's next local cloud to take (``take_early``)."""
    global _early
    with _early_lock:
        if _early is None:
            server = ForkServer(None)
            server.start()
            _early = server


def take_early(output: Callable[[str], None]) -> ForkServer | None:
    """The fork server ``start_early`` started, now sending its output to ``output`` (or None)."""
    global _early
    with _early_lock:
        server, _early = _early, None
    if server is not None:
        server.attach(output)
    return server


# ------------------------------------------------------------------------------------ server
def _reap(children: set[int], control: socket.socket) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        children.discard(pid)
        control.send(pickle.dumps(("exited", pid, status)))


def _fork_worker(control: socket.socket, wakeup: tuple[int, int], config: dict[str, Any]) -> int:
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:  # the worker
        code = 0
        try:
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            control.close()
            ours.close()
            for fd in wakeup:
                os.close(fd)
            from thumbflow.local import worker

            worker.run(theirs, config)
        except BaseException:
            import traceback

            traceback.print_exc(file=sys.__stderr__)
            code = 1
        finally:
            os._exit(code)
    theirs.close()
    socket.send_fds(control, [pickle.dumps(("spawned", pid))], [ours.fileno()])
    ours.close()
    return pid


def serve(control_fd: int) -> None:
    """The fork server's loop: spawn on request, report exits, stop when the parent goes."""
    control = socket.socket(fileno=control_fd)
    for name in ("thumbflow.local.worker", *_preload()):
        importlib.import_module(name)
    from PIL import Image

    from thumbflow.local import worker

    Image.init()  # every image plugin, once, rather than in each worker's first invocation
    worker.preload()  # the SDK bridge, boto3's default session and the handlers' service models
    wakeup = os.pipe()
    os.set_blocking(wakeup[1], False)
    signal.set_wakeup_fd(wakeup[1])
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    children: set[int] = set()
    control.send(pickle.dumps(("ready",)))
    try:
        while True:
            ready, _, _ = select.select([control, wakeup[0]], [], [])
            if wakeup[0] in ready:
                os.read(wakeup[0], 4096)
                _reap(children, control)
            if control in ready:
                data = control.recv(_MAX_MESSAGE)
                if not data:
                    return
                kind, config = pickle.loads(data)
                if kind == "spawn":
                    children.add(_fork_worker(control, wakeup, config))
    finally:
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _preload() -> tuple[str, ...]:
    from thumbflow.local.worker import PRELOAD

    return PRELOAD


if __name__ == "__main__":
    try:
        serve(int(sys.argv[1]))
    finally:
        # This process is only ever the fork server: skip the interpreter's teardown (freeing
        # everything the SDK and Pillow imported), which the parent would wait for at stop.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
