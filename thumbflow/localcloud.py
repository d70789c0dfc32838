"""Local mode: template.yaml's resources, created in-process in moto, running for real.

``LocalCloud`` reads the template, creates the buckets, topic, queue,
functions, state machine and EventBridge rule through the service APIs (moto's
CloudFormation ignores DefinitionSubstitutions), enables moto's Step Functions
interpreter and installs the stand-ins of ``standins``. An upload to the source
bucket then starts an execution through the template's own rule pattern.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import standins, traffic
from .cfn import Resolver, TemplateError, load_template, parameter_values
from .runtime import Fault, LocalFunction, Runtime

REGION = "us-east-1"
ACCOUNT = "123456789012"
TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}
_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


@dataclass
class Alert:
    """One SNS message published to the alert topic."""

    subject: str
    message: str

    @property
    def body(self) -> dict[str, Any]:
        try:
            return json.loads(self.message)
        except ValueError:
            return {"message": self.message}


@dataclass
class Deployed:
    """Physical names of what local mode created, by the template's logical ids."""

    source_bucket: str = ""
    thumbnail_bucket: str = ""
    state_machine_arn: str = ""
    topic_arn: str = ""
    dead_letter_queue_url: str = ""
    rule_name: str = ""
    functions: dict[str, LocalFunction] = field(default_factory=dict)
    definition: dict[str, Any] = field(default_factory=dict)


class LocalCloud:
    """The whole application, in this process. Use as a context manager."""

    def __init__(
        self,
        template_path: str | Path | None = None,
        *,
        parameters: Mapping[str, str] | None = None,
        definition_path: str | Path | None = None,
        stack_name: str = "thumbflow",
        time_scale: float = 1.0,
        moderation_labels: Callable[[str, str], list[dict[str, Any]]] | None = None,
        before_notifications: Callable[[LocalCloud], None] | None = None,
    ) -> None:
        self.template_path = Path(template_path or repo_root() / "template.yaml").resolve()
        self.base_dir = self.template_path.parent
        self.template = load_template(self.template_path)
        self.parameters = parameter_values(self.template, parameters or {})
        self.definition_path = Path(definition_path).resolve() if definition_path else None
        self.stack = stack_name
        self.runtime = Runtime()
        self.traffic = traffic.Traffic()
        self.deployed = Deployed()
        self._before_notifications = before_notifications
        self._mock: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self.hooks = standins.Hooks(
            runtime=self.runtime,
            start_execution=self._start_from_rule,
            moderation_labels=moderation_labels or (lambda bucket, key: []),
            time_scale=time_scale,
            on_start_failure=self._dead_letter,
        )

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        from moto import mock_aws

        if standins.active() is not None:
            raise RuntimeError("another LocalCloud is running in this process: stop it first")

        self._set_env(_FAKE_CREDENTIALS)
        # Powertools Metrics instances share one store per process; with several handlers
        # running in threads, one may flush another's metrics and the other then warns.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self._mock = mock_aws(
            config={
                "stepfunctions": {"execute_state_machine": True},
                "lambda": {"use_docker": False},
                "core": {"service_whitelist": None},
            }
        )
        self._mock.start()
        standins.activate(self.hooks)
        traffic.activate(self.traffic)
        try:
            self._deploy()
        except Exception:
            self.stop()
            raise

    def stop(self) -> None:
        if self._mock is not None:
            self.wait_all(timeout=60, raise_on_timeout=False)
            self._mock.stop()
            self._mock = None
            self._clients.clear()
        standins.activate(None)
        traffic.activate(None)
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()

    def _set_env(self, values: Mapping[str, str]) -> None:
        for name, value in values.items():
            self._saved_env.setdefault(name, os.environ.get(name))
            os.environ[name] = value

    # -- clients ------------------------------------------------------------------------------
    def client(self, service: str) -> Any:
        """One client per service (building one costs ~30 ms; clients are thread-safe)."""
        import boto3

        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(service, region_name=REGION)
            return self._clients[service]

    # -- deploy ---------------------------------------------------------------------------------
    def _physical(self) -> tuple[dict[str, Any], dict[tuple[str, str], Any]]:
        """Local names for every resource, as Ref and GetAtt would give them."""
        refs: dict[str, Any] = {}
        attrs: dict[tuple[str, str], Any] = {}
        for lid, res in self.template.get("Resources", {}).items():
            kind = res.get("Type", "")
            if kind == "AWS::S3::Bucket":
                name = f"{self.stack}-{lid}".lower()
                refs[lid] = name
                attrs[(lid, "Arn")] = f"arn:aws:s3:::{name}"
            elif kind == "AWS::Serverless::Function":
                name = f"{self.stack}-{lid}"
                refs[lid] = name
                attrs[(lid, "Arn")] = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
            elif kind == "AWS::SNS::Topic":
                name = f"{self.stack}-{lid}"
                refs[lid] = f"arn:aws:sns:{REGION}:{ACCOUNT}:{name}"
                attrs[(lid, "TopicName")] = name
                attrs[(lid, "TopicArn")] = refs[lid]
            elif kind == "AWS::Serverless::StateMachine":
                name = f"{self.stack}-{lid}"
                refs[lid] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
                attrs[(lid, "Name")] = name
            elif kind == "AWS::SQS::Queue":
                name = f"{self.stack}-{lid}"
                refs[lid] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
                attrs[(lid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
                attrs[(lid, "QueueName")] = name
        # SAM generates the dead-letter queue of an EventBridgeRule event.
        for lid, res in self._state_machines():
            for event in (res.get("Properties", {}).get("Events") or {}).values():
                dlq = (event.get("Properties") or {}).get("DeadLetterConfig") or {}
                if dlq.get("Type") == "SQS":
                    qid = dlq.get("QueueLogicalId") or f"{lid}EventsDeadLetterQueue"
                    name = f"{self.stack}-{qid}"
                    refs[qid] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"
                    attrs[(qid, "Arn")] = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"
                    attrs[(qid, "QueueName")] = name
        return refs, attrs

    def _state_machines(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for lid, res in self.template.get("Resources", {}).items():
            if res.get("Type") == "AWS::Serverless::StateMachine":
                yield lid, res

    def _deploy(self) -> None:
        refs, attrs = self._physical()
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::StackName": self.stack,
            "AWS::URLSuffix": "amazonaws.com",
        }
        self.resolver = Resolver(self.template, self.parameters, refs, attrs, pseudo)
        resources = self.template.get("Resources", {})
        s3 = self.client("s3")
        buckets_with_events: list[str] = []
        for lid, res in resources.items():
            if res.get("Type") != "AWS::S3::Bucket":
                continue
            name = refs[lid]
            s3.create_bucket(Bucket=name)
            props = res.get("Properties", {})
            if (props.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration"):
                buckets_with_events.append(name)
        self.deployed.source_bucket = refs.get("SourceBucket", "")
        self.deployed.thumbnail_bucket = refs.get("ThumbnailBucket", "")

        sns = self.client("sns")
        for lid, res in resources.items():
            if res.get("Type") == "AWS::SNS::Topic":
                sns.create_topic(Name=attrs[(lid, "TopicName")])
                self.deployed.topic_arn = refs[lid]
        for _lid, res in resources.items():
            if res.get("Type") == "AWS::SNS::Subscription" and self._condition_holds(res):
                props = self.resolver.resolve(res["Properties"])
                sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"],
                              Endpoint=props["Endpoint"])

        iam = self.client("iam")
        role = iam.create_role(
            RoleName=f"{self.stack}-local-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        self._deploy_functions(resources, refs, attrs, role)
        self._deploy_workflow(refs, role)

        if self._before_notifications is not None:
            self._before_notifications(self)
        for name in buckets_with_events:
            s3.put_bucket_notification_configuration(
                Bucket=name,
                NotificationConfiguration={"EventBridgeConfiguration": {}},
            )

    def _condition_holds(self, res: Mapping[str, Any]) -> bool:
        cond = res.get("Condition")
        return True if cond is None else self.resolver.condition(cond)

    def _deploy_functions(self, resources: Mapping[str, Any], refs: Mapping[str, Any],
                          attrs: Mapping[tuple[str, str], Any], role: str) -> None:
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        env: dict[str, str] = {}
        client = self.client("lambda")
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as zf:
            zf.writestr("placeholder.py", "# local mode runs the handler in-process\n")
        for lid, res in resources.items():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            props = {**globals_fn, **(res.get("Properties") or {})}
            variables = {
                **((globals_fn.get("Environment") or {}).get("Variables") or {}),
                **(((res.get("Properties") or {}).get("Environment") or {}).get("Variables") or {}),
            }
            for key, value in self.resolver.resolve(variables).items():
                if key in env and env[key] != str(value):
                    raise TemplateError(
                        f"local mode runs every function in one process: {key} differs "
                        f"between functions ({env[key]!r} vs {value!r})"
                    )
                env[key] = str(value)
            fn = LocalFunction(
                logical_id=lid,
                name=refs[lid],
                arn=attrs[(lid, "Arn")],
                handler=props["Handler"],
                code_dir=self.base_dir / props.get("CodeUri", "."),
                memory_mb=int(props.get("MemorySize", 128)),
                timeout_s=int(props.get("Timeout", 3)),
            )
            client.create_function(
                FunctionName=fn.name,
                Runtime=str(props.get("Runtime", "python3.13")),
                Role=role,
                Handler=fn.handler,
                Code={"ZipFile": package.getvalue()},
                MemorySize=fn.memory_mb,
                Timeout=fn.timeout_s,
            )
            self.runtime.add(fn)
            self.deployed.functions[lid] = fn
        self._set_env(env)
        for fn in self.runtime.functions.values():
            fn.load()

    def _deploy_workflow(self, refs: Mapping[str, Any], role: str) -> None:
        sfn = self.client("stepfunctions")
        events = self.client("events")
        for lid, res in self._state_machines():
            props = res.get("Properties") or {}
            path = self.definition_path or self.base_dir / props["DefinitionUri"]
            text = Path(path).read_text(encoding="utf-8")
            for name, value in self.resolver.resolve(props.get("DefinitionSubstitutions") or {}).items():
                text = text.replace("${" + name + "}", str(value))
            self.deployed.definition = json.loads(text)
            arn = refs[lid]
            sfn.create_state_machine(
                name=arn.rsplit(":", 1)[-1], definition=text, roleArn=role,
                type=str(self.resolver.resolve(props.get("Type", "STANDARD"))),
            )
            self.deployed.state_machine_arn = arn
            for event_id, event in (props.get("Events") or {}).items():
                if event.get("Type") != "EventBridgeRule":
                    continue
                eprops = self.resolver.resolve(event.get("Properties") or {})
                target: dict[str, Any] = {"Id": f"{lid}{event_id}Target", "Arn": arn,
                                          "RoleArn": role}
                if "RetryPolicy" in eprops:
                    target["RetryPolicy"] = eprops["RetryPolicy"]
                dlq = eprops.get("DeadLetterConfig") or {}
                if dlq.get("Type") == "SQS":
                    qid = dlq.get("QueueLogicalId") or f"{lid}EventsDeadLetterQueue"
                    url = self.client("sqs").create_queue(QueueName=f"{self.stack}-{qid}")["QueueUrl"]
                    self.deployed.dead_letter_queue_url = url
                    target["DeadLetterConfig"] = {"Arn": self.resolver.get_att(qid, "Arn")}
                rule = f"{self.stack}-{lid}{event_id}"
                events.put_rule(Name=rule, EventPattern=json.dumps(eprops["Pattern"]),
                                State="ENABLED")
                events.put_targets(Rule=rule, Targets=[target])
                self.deployed.rule_name = rule

    # -- rule target stand-in ---------------------------------------------------------------
    def _start_from_rule(self, state_machine_arn: str, event: dict[str, Any]) -> str:
        """What EventBridge does for a Step Functions target: StartExecution with the event."""
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        backend = stepfunctions_parser_backends[ACCOUNT][REGION]
        execution = backend.start_execution(
            state_machine_arn, name=uuid.uuid4().hex, execution_input=json.dumps(event)
        )
        return execution.exec_arn

    def _dead_letter(self, target: Mapping[str, Any], event: Mapping[str, Any],
                     exc: Exception) -> None:
        """EventBridge sends an event it could not deliver to the target's dead-letter queue."""
        if self.deployed.dead_letter_queue_url:
            self.client("sqs").send_message(
                QueueUrl=self.deployed.dead_letter_queue_url,
                MessageBody=json.dumps(event),
                MessageAttributes={
                    "ERROR_MESSAGE": {"DataType": "String", "StringValue": str(exc)[:256]},
                    "RULE_ARN": {"DataType": "String", "StringValue": self.deployed.rule_name},
                    "TARGET_ARN": {"DataType": "String", "StringValue": target.get("Arn", "")},
                },
            )

    # -- operating it --------------------------------------------------------------------------
    @contextmanager
    def injecting(self, *faults: Fault | traffic.ServiceFault) -> Iterator[None]:
        """Inject these faults for the block, none after it: Lambda-level ones (``Fault``) go
        to the runtime, wire-level ones (``ServiceFault``) to the traffic."""
        self.runtime.faults[:] = [f for f in faults if isinstance(f, Fault)]
        self.traffic.faults[:] = [f for f in faults if isinstance(f, traffic.ServiceFault)]
        try:
            yield
        finally:
            self.runtime.faults.clear()
            self.traffic.faults.clear()

    @property
    def started(self) -> list[tuple[str, dict[str, Any]]]:
        """Executions the rule started, with the event each was started with."""
        return list(self.hooks.started)

    def upload(self, key: str, body: bytes, content_type: str | None = None) -> None:
        """PutObject to the source bucket: the rule starts the workflow, as in AWS."""
        kwargs: dict[str, Any] = {"Bucket": self.deployed.source_bucket, "Key": key, "Body": body}
        if content_type:
            kwargs["ContentType"] = content_type
        self.client("s3").put_object(**kwargs)

    def execute(self, payload: Mapping[str, Any], name: str | None = None) -> str:
        """StartExecution with a given input: what the console's 'New execution' does."""
        resp = self.client("stepfunctions").start_execution(
            stateMachineArn=self.deployed.state_machine_arn,
            name=name or uuid.uuid4().hex,
            input=json.dumps(payload),
        )
        return resp["executionArn"]

    def describe(self, execution_arn: str) -> dict[str, Any]:
        return self.client("stepfunctions").describe_execution(executionArn=execution_arn)

    def wait(self, execution_arn: str, timeout: float = 300) -> dict[str, Any]:
        """Block until the execution ends; returns describe_execution's answer."""
        deadline = time.monotonic() + timeout
        delay = 0.005
        while True:
            desc = self.describe(execution_arn)
            if desc["status"] in TERMINAL:
                return desc
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {desc['status']} after {timeout}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.02)

    def wait_all(self, timeout: float = 600, raise_on_timeout: bool = True) -> None:
        """Wait for every execution of the state machine to end."""
        if not self.deployed.state_machine_arn:
            return
        deadline = time.monotonic() + timeout
        sfn = self.client("stepfunctions")
        while True:
            running = sfn.list_executions(
                stateMachineArn=self.deployed.state_machine_arn, statusFilter="RUNNING"
            )["executions"]
            if not running:
                return
            if time.monotonic() > deadline:
                if raise_on_timeout:
                    raise TimeoutError(f"{len(running)} executions still running")
                return
            time.sleep(0.02)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        events: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"executionArn": execution_arn, "maxResults": 1000}
            if token:
                kwargs["nextToken"] = token
            page = sfn.get_execution_history(**kwargs)
            events.extend(page["events"])
            token = page.get("nextToken")
            if not token:
                return events

    def alerts(self) -> list[Alert]:
        """Every message published to the alert topic so far."""
        from moto.sns.models import sns_backends

        topic = sns_backends[ACCOUNT][REGION].topics.get(self.deployed.topic_arn)
        if topic is None:
            return []
        return [Alert(subject=n[2] or "", message=n[1]) for n in list(topic.sent_notifications)]

    def objects(self, bucket: str) -> list[str]:
        keys: list[str] = []
        paginator = self.client("s3").get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys


@contextmanager
def local_cloud(**kwargs: Any) -> Iterator[LocalCloud]:
    """``with local_cloud() as cloud:`` — the application, running in this process."""
    cloud = LocalCloud(**kwargs)
    cloud.start()
    try:
        yield cloud
    finally:
        cloud.stop()
