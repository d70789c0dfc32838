"""The smallest additions moto needs to run thumbflow's template for real.

Each patch here fills one gap measured in shared/notes/embedded-aws.md; none
changes what the template or the handlers do:

1. Lambda invocations go to the real handlers (``runtime.Runtime``).
2. EventBridge rules with a Step Functions target start an execution (moto
   raises NotImplementedError); moto's own pattern matching decides.
3. Rekognition DetectModerationLabels answers from configured labels.
4. JSONPath expressions, the parsed definition and SDK clients are memoised
   (speed only).
5. Retry intervals, Wait states and the SDK's retry backoff are scaled by
   ``time_scale`` (tests).
6. Powertools Metrics keep one store per process, which is right in Lambda
   (one invocation at a time per environment) but not here, where invocations
   run in parallel threads: each thread gets its own store.

They are installed once per process and consult the active ``Hooks``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from .runtime import Runtime, ThrottledError


@dataclass
class Hooks:
    """What the patches consult: set by the running LocalCloud."""

    runtime: Runtime
    start_execution: Callable[[str, dict[str, Any]], str]
    moderation_labels: Callable[[str, str], list[dict[str, Any]]] = lambda bucket, key: []
    time_scale: float = 1.0
    on_start_failure: Callable[[dict[str, Any], dict[str, Any], Exception], None] = (
        lambda target, event, exc: None
    )
    started: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


_active: Hooks | None = None
_installed = False
_install_lock = threading.Lock()


def activate(hooks: Hooks | None) -> None:
    global _active
    _active = hooks
    install()


def active() -> Hooks | None:
    return _active


def _hooks() -> Hooks:
    if _active is None:
        raise RuntimeError("no local cloud is running")
    return _active


def install() -> None:
    """Apply every patch once."""
    global _installed
    with _install_lock:
        if _installed:
            return
        _patch_lambda()
        _patch_events()
        _patch_rekognition()
        _patch_speed()
        _patch_time()
        _patch_metrics()
        _installed = True


def _patch_lambda() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.exceptions import JsonRESTError

    def invoke(self: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
               response_headers: dict[str, str]) -> bytes:
        hooks = _hooks()
        fn = hooks.runtime.find(function_name)
        if fn is None:
            raise JsonRESTError("ResourceNotFoundException", f"Function not found: {function_name}")
        try:
            payload, error = hooks.runtime.invoke(fn, body)
        except ThrottledError as exc:
            raise JsonRESTError("TooManyRequestsException", str(exc)) from exc
        if error:
            response_headers["x-amz-function-error"] = error
        return payload

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def aws_shaped(event: dict[str, Any]) -> dict[str, Any]:
    """The event as EventBridge delivers it: a unique id and an ISO time (moto: fixed id, epoch)."""
    shaped = copy.deepcopy(event)
    shaped["id"] = str(uuid.uuid4())
    when = shaped.get("time")
    if isinstance(when, int | float):
        shaped["time"] = dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return shaped


def _patch_events() -> None:
    from moto.events.models import Rule

    original = Rule.send_to_targets

    def send_to_targets(self: Any, event: dict[str, Any], transform_input: bool = True) -> None:
        states = [t for t in self.targets if ":states:" in t.get("Arn", "")]
        others = [t for t in self.targets if t not in states]
        if states and self.state == "ENABLED" and self.event_pattern.matches_event(event):
            hooks = _hooks()
            delivered = aws_shaped(event)
            for target in states:
                try:
                    arn = hooks.start_execution(target["Arn"], delivered)
                    hooks.started.append((arn, delivered))
                except Exception as exc:  # EventBridge would retry, then dead-letter
                    hooks.on_start_failure(target, delivered, exc)
        if others:
            rest = copy.copy(self)
            rest.targets = others
            original(rest, event, transform_input)

    Rule.send_to_targets = send_to_targets  # type: ignore[method-assign]


def _patch_rekognition() -> None:
    from moto.rekognition.responses import RekognitionResponse

    def detect_moderation_labels(self: Any) -> str:
        params = json.loads(self.body or "{}")
        s3obj = params.get("Image", {}).get("S3Object", {})
        floor = float(params.get("MinConfidence", 50))
        labels = _hooks().moderation_labels(s3obj.get("Bucket", ""), s3obj.get("Name", ""))
        kept = [lab for lab in labels if float(lab.get("Confidence", 0)) >= floor]
        return json.dumps({"ModerationLabels": kept, "ModerationModelVersion": "local"})

    RekognitionResponse.detect_moderation_labels = detect_moderation_labels  # type: ignore[attr-defined]


def _patch_speed() -> None:
    """The interpreter re-parses JSONPath and builds an SDK client per evaluation."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path
    from moto.stepfunctions.parser.asl.utils import boto_client, json_path

    json_path.parse = functools.lru_cache(maxsize=4096)(json_path.parse)
    result_path.parse = functools.lru_cache(maxsize=4096)(result_path.parse)

    make_client = boto_client.boto_client_for
    cache: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        with lock:  # boto3's default session is not safe to build clients from concurrently
            key = (region, service)
            if key not in cache:
                cache[key] = make_client(region, service, state_credentials)
            return cache[key]

    boto_client.boto_client_for = boto_client_for
    _memoise_parse_trees()
    for module_name in (
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_aws_sdk",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sns",
        "moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils",
    ):
        try:
            module = __import__(module_name, fromlist=["boto_client_for"])
        except ImportError:
            continue
        if hasattr(module, "boto_client_for"):
            module.boto_client_for = boto_client_for


def _memoise_parse_trees() -> None:
    """ANTLR parsing of the definition takes ~0.5 s per execution; parse once per text.

    The parse tree is cached, and so is the program the preprocessor builds from the
    state machine's definition (~25 ms of CPU per execution otherwise). Sharing it is
    safe: its components are not changed after they are built, and everything an
    execution changes (retry counts, backoff, variables) lives in that execution's own
    Environment heap, keyed per component; Map iterations already share components
    across threads the same way. Intrinsic functions still get a fresh program per call.
    """
    from moto.stepfunctions.parser.asl.parse import asl_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic import intrinsic_parser
    from moto.stepfunctions.parser.asl.parse.intrinsic.preprocessor import (
        Preprocessor as IntrinsicPreprocessor,
    )
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    def cached(parse: Callable[[str], tuple[Any, Any]],
               preprocessor: Callable[[], Any]) -> Callable[[str], tuple[Any, Any]]:
        trees: dict[str, Any] = {}
        lock = threading.Lock()

        def parse_once(src: str) -> tuple[Any, Any]:
            with lock:
                tree = trees.get(src)
            if tree is None:
                program, tree = parse(src)  # raises on syntax errors, as before
                with lock:
                    trees[src] = tree
                return program, tree
            return preprocessor().visit(tree), tree

        return parse_once

    programs: dict[str, tuple[Any, Any]] = {}
    programs_lock = threading.Lock()
    parse_tree = cached(asl_parser.AmazonStateLanguageParser.parse, Preprocessor)

    def parse_program_once(src: str) -> tuple[Any, Any]:
        with programs_lock:
            found = programs.get(src)
        if found is None:
            found = parse_tree(src)
            with programs_lock:
                programs[src] = found
        return found

    asl_parser.AmazonStateLanguageParser.parse = staticmethod(  # type: ignore[method-assign]
        parse_program_once
    )
    intrinsic_parser.IntrinsicParser.parse = staticmethod(  # type: ignore[method-assign]
        cached(intrinsic_parser.IntrinsicParser.parse, IntrinsicPreprocessor)
    )


def _patch_time() -> None:
    import time

    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
    from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

    retrier_decl.time = SimpleNamespace(sleep=lambda s: time.sleep(s * _hooks().time_scale))

    def _wait_interval(self: Any, env: Any, wait_seconds: int) -> None:
        if wait_seconds > 0:
            env.program_state_event.wait(wait_seconds * _hooks().time_scale)

    wait_function.WaitFunction._wait_interval = _wait_interval  # type: ignore[method-assign]

    # The SDK's own retry backoff inside handlers (S3 SlowDown, 5xx): scaled the same way.
    from botocore.retries import standard

    delay_amount = standard.ExponentialBackoff.delay_amount

    def scaled_delay(self: Any, context: Any) -> float:
        hooks = _active
        return delay_amount(self, context) * (hooks.time_scale if hooks is not None else 1.0)

    standard.ExponentialBackoff.delay_amount = scaled_delay  # type: ignore[method-assign]


class _PerThread:
    """A data descriptor: the dict an instance was given, but one copy of it per thread.

    Instances that shared one dict (Powertools' class-level metric store) still
    share it within a thread, so semantics within one invocation are unchanged.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.local = threading.local()

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        seed = obj.__dict__.get(self.name)
        if seed is None:
            return None
        stores: dict[int, dict[str, Any]] = self.local.__dict__.setdefault("stores", {})
        if id(seed) not in stores:
            stores[id(seed)] = dict(seed)
        return stores[id(seed)]

    def __set__(self, obj: Any, value: Any) -> None:
        obj.__dict__[self.name] = value


def _patch_metrics() -> None:
    """Flushing one thread's metrics must not clear or half-serialise another's."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    for name in ("metric_set", "dimension_set", "metadata_set"):
        setattr(AmazonCloudWatchEMFProvider, name, _PerThread(name))
