"""One Lambda execution environment: a process that runs one function, one invocation at a time.

It is forked from local mode's fork server (boto3, Pillow and Powertools already
imported), then does what Lambda's runtime does at init: it takes the function's
environment as its whole environment, puts LAMBDA_TASK_ROOT (the CodeUri folder)
first on sys.path and imports the handler. After that it answers invocations sent
over its channel, one at a time, and returns results and errors as the Lambda
runtime shapes them (errorMessage, errorType, requestId, stackTrace).

Two things are bridged over the same channel, so the handler and its modules run
unchanged: every AWS SDK request (a botocore ``before-send`` handler, registered
the way moto registers its own, ships it to the parent, which serves it and sends
the answer back), and every line written to stdout or stderr (sent whole, so the
lines of concurrent invocations never interleave mid-line). This module never
imports moto.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

PRELOAD = ("boto3", "botocore.session", "botocore.retries.standard", "PIL.Image",
           "aws_lambda_powertools", "aws_lambda_powertools.logging", "aws_lambda_powertools.metrics")


@dataclass
class LocalContext:
    """What Powertools and handlers read from the Lambda context object."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    deadline: float  # time.monotonic() at which the function times out
    function_version: str = "$LATEST"
    log_group_name: str = ""
    log_stream_name: str = "local"
    identity: Any = None
    client_context: Any = None

    def __post_init__(self) -> None:
        self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass
class Channel:
    """The worker's end of its connection to the parent; safe to use from several threads."""

    conn: Connection
    waited: float = 0.0  # seconds spent waiting for answers to AWS requests (this invocation)
    _send: threading.Lock = field(default_factory=threading.Lock)
    _call: threading.Lock = field(default_factory=threading.Lock)

    def send(self, message: tuple[Any, ...]) -> None:
        with self._send:
            self.conn.send(message)

    def call(self, message: tuple[Any, ...]) -> Any:
        """Send a request and wait for its reply (one request in flight at a time)."""
        with self._call:
            started = time.perf_counter()
            self.send(message)
            answer = self.conn.recv()
            self.waited += time.perf_counter() - started
            return answer


class LineWriter(io.TextIOBase):
    """stdout/stderr for the handler: each complete line goes to the parent as one message."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._partial = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            lines = (self._partial + text).split("\n")
            self._partial = lines.pop()
        for line in lines:
            self.channel.send(("log", line + "\n"))
        return len(text)

    def flush(self) -> None:
        with self._lock:
            rest, self._partial = self._partial, ""
        if rest:
            self.channel.send(("log", rest + "\n"))


class _Body(io.BytesIO):
    """A response body botocore can read and stream."""

    def stream(self, **kwargs: Any) -> Any:
        while chunk := self.read(1 << 16):
            yield chunk


def _request_bytes(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    position = body.tell() if hasattr(body, "tell") else 0  # botocore's aws-chunked wrapper has no tell
    data = body.read()
    if hasattr(body, "seek"):
        body.seek(position)  # botocore reads the body again when it retries
    return data if isinstance(data, bytes) else str(data).encode("utf-8")


_channel: Channel | None = None  # this worker's, set at its start (the fork server has none)
# Services whose models the fork server reads once, so a worker's first client is not
# the whole cold start: what the handlers use.
WARM_SERVICES = ("s3", "stepfunctions", "cloudfront")


def _before_send(request: Any, event_name: str = "", **kwargs: Any) -> Any:
    """botocore's ``before-send``: ship the request to the parent and answer with its reply."""
    from botocore.awsrequest import AWSResponse

    if _channel is None:
        raise RuntimeError("no channel to the local cloud: this process is not a worker")
    headers = [(k, v.decode("latin-1") if isinstance(v, bytes) else str(v))
               for k, v in request.headers.items()]
    status, answer_headers, content = _channel.call(
        ("aws", event_name, request.method, request.url, headers, _request_bytes(request.body)))
    return AWSResponse(request.url, status, dict(answer_headers), _Body(content))


def register_sdk_bridge() -> None:
    """Every botocore session made after this sends its requests to the parent (as moto's
    stubber does: a built-in ``before-send`` handler)."""
    from botocore import handlers

    if ("before-send", _before_send) not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(("before-send", _before_send))


def preload() -> None:
    """In the fork server: the bridge, boto3's default session and the service models, once.

    Every botocore session made later in a worker (a handler makes its own, not boto3's)
    shares the data loader that has parsed those models, as a warm Lambda environment has
    them parsed already: each worker does not parse them again for its first client."""
    import boto3
    import botocore.session

    register_sdk_bridge()
    session = boto3.session.Session()  # reads no credentials or region until a client is made
    for service in WARM_SERVICES:
        session._session.get_service_model(service)
    session._session.get_component("endpoint_resolver")
    boto3.DEFAULT_SESSION = session
    loader, make = session._session.get_component("data_loader"), botocore.session.get_session

    def get_session(env_vars: Any = None) -> botocore.session.Session:
        made = make(env_vars)
        made.register_component("data_loader", loader)
        return made

    botocore.session.get_session = get_session


def install_sdk_bridge(channel: Channel, time_scale: float) -> None:
    """Every botocore request of this process goes to the parent, which answers it."""
    import boto3

    global _channel
    _channel = channel
    from botocore import handlers

    if ("before-send", _before_send) not in handlers.BUILTIN_HANDLERS:
        register_sdk_bridge()
        boto3.DEFAULT_SESSION = None  # a session made before the bridge would lack it
    if time_scale != 1.0:  # the SDK's own retry backoff, scaled like the interpreter's sleeps
        from botocore.retries import standard

        delay_amount = standard.ExponentialBackoff.delay_amount
        standard.ExponentialBackoff.delay_amount = (  # type: ignore[method-assign]
            lambda self, context: delay_amount(self, context) * time_scale)


def _error(message: str, error_type: str, request_id: str, stack: list[str] | None = None) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "requestId": request_id,
                       "stackTrace": stack or []}).encode()


def load_handler(handler: str, task_root: str) -> Any:
    """Import ``module.attr`` as the Python runtime does; raise ``InitError`` as it reports it."""
    module_name, _, attr = handler.rpartition(".")
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise InitError("Runtime.ImportModuleError",
                        f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        raise InitError("Runtime.UserCodeSyntaxError",
                        f"Syntax error in module '{module_name}': {exc}") from exc
    except Exception as exc:
        raise InitError(type(exc).__name__, str(exc)) from exc
    origin = Path(getattr(module, "__file__", "") or "").resolve()
    if not origin.is_relative_to(Path(task_root).resolve()):
        raise InitError("Runtime.ImportModuleError",
                        f"Unable to import module '{module_name}': found at {origin}, "
                        f"outside the function's code {task_root}")
    if not hasattr(module, attr):
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'")
    return getattr(module, attr)


class InitError(Exception):
    """The function failed to initialise; Lambda reports it on the invocation."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def run(sock: socket.socket, config: dict[str, Any]) -> None:
    """The worker's life: init, then invocations until the parent stops it or goes away."""
    started = time.perf_counter()
    channel = Channel(Connection(sock.detach()))
    os.environ.clear()
    os.environ.update(config["env"])
    task_root = config["task_root"]
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    sys.stdout = sys.stderr = LineWriter(channel)
    install_sdk_bridge(channel, float(config.get("time_scale", 1.0)))
    init_error: tuple[str, str] | None = None
    try:
        handler = load_handler(config["handler"], task_root)
    except InitError as exc:
        init_error = (exc.error_type, str(exc))
    sys.stdout.flush()
    channel.send(("ready", init_error, time.perf_counter() - started))
    if init_error is not None:
        return
    while True:
        try:
            message = channel.conn.recv()
        except EOFError:
            return
        kind = message[0]
        if kind == "invoke":
            _invoke(channel, config, handler, *message[1:])
        elif kind == "inspect":
            channel.send(("inspected", {"env": dict(os.environ), "sys_path": list(sys.path[:3]),
                                        "cwd": os.getcwd(), "pid": os.getpid(),
                                        "moto_loaded": any(m == "moto" or m.startswith("moto.")
                                                           for m in sys.modules)}))
        elif kind == "stop":
            return


def _invoke(channel: Channel, config: dict[str, Any], handler: Any, request_id: str,
            payload: bytes) -> None:
    cpu_started = time.process_time()
    channel.waited = 0.0
    context = LocalContext(config["name"], config["arn"], int(config["memory_mb"]), request_id,
                           time.monotonic() + float(config["timeout_s"]))
    function_error: str | None = None
    try:
        event = json.loads(payload or b"{}")
        result = handler(event, context)
        try:
            body = json.dumps(result).encode()
        except (TypeError, ValueError) as exc:
            function_error = "Unhandled"
            body = _error(f"Unable to marshal response: {exc}", "Runtime.MarshalError", request_id)
    except Exception as exc:  # what the Python runtime reports for an unhandled exception
        function_error = "Unhandled"
        body = _error(str(exc), type(exc).__name__, request_id,
                      traceback.format_list(traceback.extract_tb(exc.__traceback__)))
    sys.stdout.flush()
    channel.send(("result", body, function_error, time.process_time() - cpu_started, channel.waited))
