"""Local mode: template.yaml's resources, created in moto in this process, running for real.

``LocalCloud`` reads the template, starts moto's mock, installs local mode's
additions (one registry, ``patches``, undone at ``stop``), creates every resource
through the service APIs (``deploy``) and starts a fork server for the Lambda
workers. An upload to the source bucket then starts an execution through the
template's own rule, and every Lambda invocation runs the real handler in a worker
process of its function (``lambdas``). Every AWS request, wherever it comes from,
passes the ``wire``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from . import gcpause, interpreter, programs, rekognition, routes, sdkdata
from .deploy import MAIN_WORKFLOW, Deployed, Deployer
from .distributions import Distributions
from .events import Delivery
from .forkserver import ForkServer, take_early
from .lambdas import Fault, FunctionSpec, Lambdas, ThrottledError
from .logsink import LogSink
from .names import ACCOUNT, REGION, physical_names, pseudo_parameters, workflow_functions
from .observe import TERMINAL as TERMINAL  # re-exported: callers import it from here
from .observe import Alert as Alert
from .observe import Observing
from .patches import Patches
from .template import Resolver, load_template, parameter_values
from .wire import DRIVER, EVENTS, STATES, RawBody, Request, ServiceFault, Wire, WireHook

# Access keys that tell the wire who signed a request made in this process.
ACCESS_KEYS = {DRIVER: "LOCALDRIVER", STATES: "LOCALSTATES", EVENTS: "LOCALEVENTS"}


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


class LocalCloud(Observing):
    """The whole application on this machine. Use as a context manager."""

    def __init__(
        self,
        template_path: str | Path | None = None,
        *,
        parameters: Mapping[str, str] | None = None,
        definition_path: str | Path | None = None,
        stack_name: str = "thumbflow",
        time_scale: float = 1.0,
        moderation_labels: Callable[[str, str], list[dict[str, Any]]] | None = None,
        faces: Callable[[str, str], list[dict[str, Any]]] | None = None,
        before_notifications: Callable[[LocalCloud], None] | None = None,
        log: str | Path | TextIO | None = None,
        max_workers_per_function: int = 8,
        program_cache: Path | bool = True,
        prewarm: int = 0,
    ) -> None:
        self.template_path = Path(template_path or repo_root() / "template.yaml").resolve()
        self.base_dir = self.template_path.parent
        self.template = load_template(self.template_path)
        self.parameters = parameter_values(self.template, parameters or {})
        self.definition_path = Path(definition_path).resolve() if definition_path else None
        self.stack = stack_name
        self.time_scale = time_scale
        self.moderation_labels = moderation_labels or (lambda bucket, key: [])
        self.faces = faces or (lambda bucket, key: [])  # DetectFaces' stand-in (FaceAwareCrops)
        self.max_workers_per_function = max_workers_per_function
        # Where the definitions' parsed programs are kept between processes (``programs``):
        # True the user's cache folder, False none, or a folder.
        self.program_cache = program_cache
        # Environments of each function the upload workflow calls to initialise as soon as the
        # function exists, while the deploy goes on (the CLI asks; tests see every cold start).
        self.prewarm = prewarm
        self.wire = Wire(callers={key: caller for caller, key in ACCESS_KEYS.items()})
        self.deployed = Deployed()
        self._before_notifications = before_notifications
        self._log_target = log
        self._mock: Any = None
        self.patches = Patches()
        self._session: Any = None
        self._clients: dict[tuple[str, str], Any] = {}
        self._clients_lock = threading.Lock()
        self._alerts: list[Alert] = []
        self._events: list[dict[str, Any]] = []
        self._read_lock = threading.Lock()
        self.forkserver: ForkServer | None = None
        self.lambdas: Lambdas | None = None  # set by start()
        self.delivery: Delivery | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        with gcpause.paused():
            self._start()

    def _start(self) -> None:
        self.log = LogSink(self._log_target)
        try:
            # First: the fork server imports the workers' SDK and Pillow on another core while
            # this process imports moto and deploys.
            self.forkserver = take_early(self.log.write) or ForkServer(self.log.write)
            if not self.forkserver.started:
                self.forkserver.start()
            import boto3
            from moto import mock_aws
            from moto.core.models import botocore_stubber

            self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True},
                                          "lambda": {"use_docker": False},
                                          "core": {"service_whitelist": None}})
            self._mock.start()
            self._session = boto3.session.Session()
            self.lambdas = Lambdas(self.forkserver, self._serve_for_worker(botocore_stubber), self.log.write,
                                   self.time_scale, self.max_workers_per_function)
            self.distributions = Distributions(self.stack, self.log.write)
            self.delivery = Delivery(self.wire, self._start_from_rule, self._dead_letter, ACCOUNT, REGION,
                                     self.time_scale, self.log.write)
            self._register_patches()
            self.patches.install()
            self._deploy()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Let running executions end, then take everything down; every step runs, whatever
        an earlier one raised, so nothing stays patched or running (the first error is raised)."""
        errors: list[BaseException] = []

        def step(action: Callable[[], object]) -> None:
            try:
                action()
            except BaseException as exc:  # raised once every step ran
                errors.append(exc)

        if self._mock is not None and self.deployed.state_machines and self.patches.installed:
            step(lambda: self.wait_all(timeout=60, raise_on_timeout=False))
        if self.delivery is not None:
            step(self.delivery.stop)
        if self.lambdas is not None:
            step(self.lambdas.stop)
        if self.forkserver is not None:
            step(self.forkserver.stop)
            self.forkserver = None
        step(self.patches.uninstall)
        if self._mock is not None:
            step(self._mock.stop)
            self._mock = None
        self._clients.clear()
        if hasattr(self, "log"):
            step(self.log.close)
        if errors:
            raise errors[0]

    def _register_patches(self) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend
        from moto.core.botocore_stubber import BotocoreStubber
        from moto.core.exceptions import JsonRESTError

        original_call = BotocoreStubber.__call__
        wire = self.wire

        def stubber_call(stub: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
            if not stub.enabled:
                return original_call(stub, event_name, request, **kwargs)
            return wire.serve(event_name, request, wire.caller_of(request.headers),
                              lambda name, req: self._answer(stub, original_call, name, req))

        lambdas = self.lambdas
        assert lambdas is not None

        def invoke(backend: Any, function_name: str, qualifier: Any, body: Any, headers: Any,
                   response_headers: dict[str, str]) -> bytes:
            fn = lambdas.find(function_name)
            if fn is None:
                raise JsonRESTError("ResourceNotFoundException", f"Function not found: {function_name}")
            try:
                payload, error = lambdas.invoke(fn, body)
            except ThrottledError as exc:
                raise JsonRESTError("TooManyRequestsException", str(exc)) from exc
            if error:
                response_headers["x-amz-function-error"] = error
            return payload

        self.patches.add("wire.botocore-stubber", BotocoreStubber, "__call__", stubber_call)
        self.distributions.add_patches(self.patches, self.wire, lambda: self.client("cloudfront"))
        sdkdata.add_patches(self.patches)
        routes.add_patches(self.patches)
        self.patches.add("lambda.invoke", LambdaSimpleBackend, "invoke", invoke)
        interpreter.add_client_patches(self.patches,
                                       lambda region, service: self._client_as(STATES, service))
        interpreter.add_speed_patches(self.patches, self._program_cache_dir())
        interpreter.add_time_patches(self.patches, self.time_scale)
        interpreter.add_integration_patches(self.patches)
        assert self.delivery is not None
        self.delivery.add_patches(self.patches)

    def _program_cache_dir(self) -> Path | None:
        if self.program_cache is True:
            return programs.default_directory()
        return Path(self.program_cache) if self.program_cache else None

    def _answer(self, stub: Any, original_call: Callable[..., Any], event_name: str, request: Any) -> Any:
        """Local stand-ins first (what moto lacks), then moto."""
        from botocore.awsrequest import AWSResponse

        raw = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if event_name == "before-send.rekognition.DetectModerationLabels":
            status, headers, body = rekognition.detect_moderation_labels(raw, self.moderation_labels)
            return AWSResponse(request.url, status, headers, RawBody(body))
        if event_name == "before-send.rekognition.DetectFaces":
            status, headers, body = rekognition.detect_faces(raw, self.faces)
            return AWSResponse(request.url, status, headers, RawBody(body))
        return original_call(stub, event_name, request)

    def _serve_for_worker(self, stub: Any) -> Callable[..., tuple[int, list[Any], bytes]]:
        """Answer a request a worker shipped over its channel, as the worker's function."""
        from botocore.awsrequest import AWSPreparedRequest
        from botocore.compat import HTTPHeaders
        from moto.core.botocore_stubber import BotocoreStubber

        original = BotocoreStubber.__call__  # captured before the registry replaces it

        def serve(caller: str, event_name: str, method: str, url: str, headers: list[tuple[str, str]],
                  body: bytes) -> tuple[int, list[Any], bytes]:
            http_headers = HTTPHeaders()
            for name, value in headers:
                http_headers[name] = value
            request = AWSPreparedRequest(method=method, url=url, headers=http_headers, body=body,
                                         stream_output=False)
            response = self.wire.serve(event_name, request, caller,
                                       lambda name, req: self._answer(stub, original, name, req))
            if response is None:
                message = f"local mode has no emulator for {method} {url}".encode()
                return 501, [("content-type", "text/plain")], message
            return (response.status_code, [(k, str(v)) for k, v in response.headers.items()],
                    response.content)

        return serve

    # -- clients ------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """The driver's client for ``service`` (one per service; clients are thread-safe)."""
        return self._client_as(DRIVER, service)

    def _client_as(self, caller: str, service: str) -> Any:
        from botocore.config import Config

        if self._mock is None:
            raise RuntimeError("the local cloud is not running: its clients would reach AWS itself")
        with self._clients_lock:  # building clients from one session is not thread-safe
            key = (caller, service)
            if key not in self._clients:
                # The interpreter's and EventBridge's calls are retried by their own policies (the
                # definition's Retry, the rule's RetryPolicy), never by the SDK underneath.
                config = (Config(parameter_validation=False, retries={"total_max_attempts": 1})
                          if caller in (STATES, EVENTS) else None)
                self._clients[key] = self._session.client(
                    service, region_name=REGION, aws_access_key_id=ACCESS_KEYS[caller],
                    aws_secret_access_key="local", config=config)
            return self._clients[key]

    # -- deploy -------------------------------------------------------------------------------
    def _deploy(self) -> None:
        refs, attrs = physical_names(self.template, self.stack, self.parameters)
        self.resolver = Resolver(self.template, self.parameters, refs, attrs, pseudo_parameters(self.stack))
        warm = workflow_functions(self.template, MAIN_WORKFLOW) if self.prewarm else set()
        assert self.lambdas is not None
        lambdas = self.lambdas

        def function_created(spec: FunctionSpec) -> None:
            lambdas.add(spec)
            if spec.logical_id in warm:
                lambdas.prewarm(spec.logical_id, self.prewarm)

        deployer = Deployer(self.template, self.resolver, self.client, self.base_dir, self.stack,
                            self.definition_path, reserve=self.distributions.reserve,
                            function_created=function_created)
        self.deployed = deployer.deploy()
        assert self.delivery is not None
        self.delivery.unversioned_buckets.update(set(deployer.buckets_with_events)
                                                 - set(deployer.versioned_buckets))
        for lid, why in self.deployed.unavailable.items():
            self.log.write(f"thumbflow local: {lid} is not available locally: {why}\n")
        if self._before_notifications is not None:
            self._before_notifications(self)
        deployer.enable_bucket_notifications()

    # -- what the rule does -------------------------------------------------------------------
    def _start_from_rule(self, state_machine_arn: str, event: dict[str, Any]) -> str:
        sfn = self._client_as(EVENTS, "stepfunctions")
        return sfn.start_execution(stateMachineArn=state_machine_arn, name=str(uuid.uuid4()),
                                   input=json.dumps(event))["executionArn"]

    def _dead_letter(self, queue_arn: str, body: str, attributes: dict[str, str]) -> None:
        sqs = self._client_as(EVENTS, "sqs")
        url = sqs.get_queue_url(QueueName=queue_arn.rsplit(":", 1)[-1])["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=body, MessageAttributes={
            name: {"DataType": "String", "StringValue": value} for name, value in attributes.items()})

    # -- operating it --------------------------------------------------------------------------
    @property
    def started(self) -> list[tuple[str, dict[str, Any]]]:
        """Executions the rule started, with the event each was started with."""
        return list(self.delivery.started) if self.delivery is not None else []

    @contextmanager
    def injecting(self, *faults: Fault | ServiceFault) -> Iterator[None]:
        """Inject these faults for the block, none after it: Lambda-level ones (``Fault``) are
        answered before any worker is called, wire-level ones (``ServiceFault``) on the wire."""
        assert self.lambdas is not None
        self.lambdas.faults[:] = [f for f in faults if isinstance(f, Fault)]
        self.wire.faults[:] = [f for f in faults if isinstance(f, ServiceFault)]
        try:
            yield
        finally:
            self.lambdas.faults.clear()
            self.wire.faults.clear()

    def before_invoke(self, function: str, run: Callable[[dict[str, Any]], None]) -> Any:
        """``with cloud.before_invoke(fn, run):`` ``run(event)`` here, ahead of each invocation."""
        assert self.lambdas is not None
        return self.lambdas.before(function, run)

    def before_request(self, service: str, operation: str | None, run: Callable[[Request], None], *,
                       caller: str | None = None, when: Callable[[Request], bool] = lambda r: True,
                       times: int | None = None) -> Any:
        """``with cloud.before_request("s3", "PutObject", run, caller=...):`` ``run(request)``
        here, just before each matching request is served (whoever made it)."""
        return self.wire.hooked(WireHook(service, operation, run, caller, when, times))

    def after_request(self, service: str, operation: str | None, run: Callable[[Request], None], *,
                      caller: str | None = None, when: Callable[[Request], bool] = lambda r: True,
                      times: int | None = None) -> Any:
        """Like ``before_request``, once the request was answered and before its caller sees it."""
        return self.wire.hooked(WireHook(service, operation, run, caller, when, times, after=True))

    def invoke(self, function: str, event: Mapping[str, Any]) -> tuple[bytes, str | None]:
        """Invoke a function by logical id, as its function URL or a test would: (payload, error)."""
        assert self.lambdas is not None
        return self.lambdas.invoke(self.function(function), json.dumps(event))

    def function(self, logical_id: str) -> FunctionSpec:
        return self.deployed.functions[logical_id]

    def upload(self, key: str, body: bytes, content_type: str | None = None) -> None:
        """PutObject to the source bucket: the rule starts the workflow, as in AWS."""
        kwargs: dict[str, Any] = {"Bucket": self.deployed.source_bucket, "Key": key, "Body": body}
        if content_type:
            kwargs["ContentType"] = content_type
        self.client("s3").put_object(**kwargs)

    def execute(self, payload: Mapping[str, Any], name: str | None = None,
                state_machine: str | None = None) -> str:
        """StartExecution with a given input: what the console's 'New execution' does
        (on the upload workflow unless another state machine's ARN is given)."""
        return self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine or self.deployed.state_machine_arn,
            name=name or uuid.uuid4().hex, input=json.dumps(payload))["executionArn"]
