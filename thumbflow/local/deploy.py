"""Create what template.yaml describes, through the service APIs, in the local cloud.

moto's CloudFormation ignores DefinitionSubstitutions and its state machines are
not visible to the interpreter, so each resource is created with its own service's
API, named as Ref and GetAtt would name it. Resource types with no local meaning
(CloudFront, alarms, log groups, permissions, bucket policies) are not created;
nothing here reads them, and the template tests check them against AWS's rules. A DynamoDB
table is created with its keys, billing mode and encryption; point-in-time recovery and the
deletion policies have no local meaning.

Local-only additions: an IAM role for everything (moto requires one; IAM is not
enforced), and an SQS queue subscribed to the alert topic, which is how local mode
reads the alerts (``Deployed.alert_queue_url``).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from .aslcompat import for_moto
from .lambdas import FunctionSpec
from .names import REGION, rule_events, state_machines
from .template import Resolver, TemplateError

# Set by Lambda itself; a function's Environment may not set them.
RESERVED_VARIABLES = frozenset({
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR"})
_QUEUE_ATTRIBUTES = ("DelaySeconds", "MaximumMessageSize", "MessageRetentionPeriod",
                     "ReceiveMessageWaitTimeSeconds", "VisibilityTimeout", "KmsMasterKeyId",
                     "KmsDataKeyReusePeriodSeconds", "SqsManagedSseEnabled", "FifoQueue",
                     "ContentBasedDeduplication")
ALERT_QUEUE = "local-alerts"
EVENTS_QUEUE = "local-events"
# What the application publishes to the default bus: not the AWS services' own events.
APPLICATION_EVENTS = {"source": [{"anything-but": {"prefix": "aws."}}]}
MAIN_WORKFLOW = "ThumbnailWorkflow"  # the upload workflow: ``Deployed.state_machine_arn`` and friends
_FUNCTION_PROPERTIES = ("Handler", "Runtime", "CodeUri", "MemorySize", "Timeout",
                        "ReservedConcurrentExecutions")


@dataclass
class Deployed:
    """Physical names of what local mode created, by the template's logical ids."""

    source_bucket: str = ""
    thumbnail_bucket: str = ""
    state_machine_arn: str = ""
    topic_arn: str = ""
    dead_letter_queue_url: str = ""
    rule_name: str = ""
    rule_arn: str = ""
    alert_queue_url: str = ""
    distribution_id: str = ""
    claims_table: str = ""  # NameClaimsTable: the stems' name claims (ownership.py)
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    definition: dict[str, Any] = field(default_factory=dict)  # the upload workflow's, substituted
    state_machines: dict[str, str] = field(default_factory=dict)  # logical id -> ARN, every workflow
    definitions: dict[str, dict[str, Any]] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)  # SAM's rule logical id -> rule name
    unavailable: dict[str, str] = field(default_factory=dict)  # workflows moto cannot run, and why
    events_queue_url: str = ""  # local only: every event the application itself publishes

    def state_machine_of(self, logical_id: str) -> str:
        """The ARN of one of the template's state machines (say why when it could not be created)."""
        if logical_id in self.unavailable:
            why = self.unavailable[logical_id]
            raise TemplateError(f"{logical_id} is not available in local mode: {why}")
        try:
            return self.state_machines[logical_id]
        except KeyError:
            raise TemplateError(f"the template has no state machine {logical_id}") from None


def lambda_environment(name: str, handler: str, code_dir: Path, memory_mb: int, runtime: str,
                       variables: Mapping[str, Any], logical_id: str) -> dict[str, str]:
    """A function's whole environment: the template's variables, then those Lambda sets.

    https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
    Locally also: tracing off (no X-Ray daemon here) and no shared AWS config files.
    """
    reserved = sorted(set(variables) & RESERVED_VARIABLES)
    if reserved:
        raise TemplateError(f"{logical_id}: Lambda reserves {', '.join(reserved)}")
    return {
        **{k: str(v) for k, v in variables.items()},
        "_HANDLER": handler,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{runtime}",
        "AWS_LAMBDA_FUNCTION_NAME": name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "local",
        "AWS_ACCESS_KEY_ID": f"local-{logical_id}",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_SESSION_TOKEN": "local",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


class Deployer:
    """Creates the template's resources with ``client(service)`` (the driver's clients)."""

    def __init__(self, template: Mapping[str, Any], resolver: Resolver, client: Callable[[str], Any],
                 base_dir: Path, stack: str, definition_path: Path | None,
                 reserve: Callable[[dict[str, Any]], dict[str, str]] | None = None,
                 function_created: Callable[[FunctionSpec], None] | None = None) -> None:
        self.template = template
        self.resolver = resolver
        self.client = client
        self.base_dir = base_dir
        self.stack = stack
        self.definition_path = definition_path
        self.reserve = reserve  # names a CloudFront distribution that is created later
        self.function_created = function_created  # told of each function as soon as it exists
        self.resources: dict[str, Any] = dict(template.get("Resources") or {})
        self.deployed = Deployed()
        self.buckets_with_events: list[str] = []
        self.versioned_buckets: list[str] = []

    def _of_type(self, kind: str) -> Iterator[tuple[str, dict[str, Any]]]:
        for lid, res in self.resources.items():
            if res.get("Type") == kind and self._condition_holds(res):
                yield lid, res

    def _condition_holds(self, res: Mapping[str, Any]) -> bool:
        cond = res.get("Condition")
        return True if cond is None else self.resolver.condition(cond)

    def _props(self, res: Mapping[str, Any]) -> dict[str, Any]:
        return self.resolver.resolve(res.get("Properties") or {})

    def deploy(self) -> Deployed:
        self._buckets()
        self._tables()
        self._queues()
        self._topics()
        self._distributions()
        role = self.client("iam").create_role(
            RoleName=f"{self.stack}-local-role",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )["Role"]["Arn"]
        self._functions(role)
        self._workflows(role)
        self.watch_application_events()
        return self.deployed

    def watch_application_events(self) -> None:
        """Local only: a rule on the default bus with a queue behind it, so local mode reads the
        events the workflows publish (PutEvents) through the SQS API."""
        sqs, events = self.client("sqs"), self.client("events")
        url = sqs.create_queue(QueueName=f"{self.stack}-{EVENTS_QUEUE}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        rule = f"{self.stack}-{EVENTS_QUEUE}"
        events.put_rule(Name=rule, EventPattern=json.dumps(APPLICATION_EVENTS), State="ENABLED")
        events.put_targets(Rule=rule, Targets=[{"Id": "local-events-queue", "Arn": arn}])
        self.deployed.events_queue_url = url

    def enable_bucket_notifications(self) -> None:
        """Last: restored objects (``persist``) must not start executions."""
        for name in self.buckets_with_events:
            self.client("s3").put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration={"EventBridgeConfiguration": {}})

    def _buckets(self) -> None:
        s3 = self.client("s3")
        for lid, res in self._of_type("AWS::S3::Bucket"):
            name = self.resolver.ref(lid)
            s3.create_bucket(Bucket=name)
            props = self.resolver.resolve({k: v for k, v in (res.get("Properties") or {}).items()
                                           if k in ("VersioningConfiguration", "NotificationConfiguration")})
            status = (props.get("VersioningConfiguration") or {}).get("Status")
            if status:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
                self.versioned_buckets.append(name)
            if (props.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration"):
                self.buckets_with_events.append(name)
        self.deployed.source_bucket = self.resolver.refs.get("SourceBucket", "")
        self.deployed.thumbnail_bucket = self.resolver.refs.get("ThumbnailBucket", "")

    def _tables(self) -> None:
        """Each DynamoDB table with its keys, indexes' keys and billing mode, named as Ref names it."""
        kept = ("AttributeDefinitions", "KeySchema", "BillingMode", "ProvisionedThroughput",
                "SSESpecification", "GlobalSecondaryIndexes", "LocalSecondaryIndexes")
        for lid, res in self._of_type("AWS::DynamoDB::Table"):
            own = res.get("Properties") or {}
            props = self.resolver.resolve({k: v for k, v in own.items() if k in kept})
            sse = props.pop("SSESpecification", None)
            if sse is not None:  # CloudFormation's SSEEnabled is the API's Enabled
                props["SSESpecification"] = {"Enabled": bool(sse.get("SSEEnabled", False)),
                                             **({"SSEType": sse["SSEType"]} if "SSEType" in sse else {})}
            self.client("dynamodb").create_table(TableName=self.resolver.ref(lid), **props)
        self.deployed.claims_table = self.resolver.refs.get("NameClaimsTable", "")

    def _queues(self) -> None:
        sqs = self.client("sqs")
        for lid, res in self._of_type("AWS::SQS::Queue"):
            props = self._props(res)
            attributes = {k: str(props[k]).lower() if isinstance(props[k], bool) else str(props[k])
                          for k in _QUEUE_ATTRIBUTES if k in props}
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
            name = self.resolver.get_att(lid, "QueueName")
            sqs.create_queue(QueueName=name, Attributes=attributes)
        for _lid, res in self._of_type("AWS::SQS::QueuePolicy"):
            props = self._props(res)
            for url in props.get("Queues") or []:
                sqs.set_queue_attributes(QueueUrl=url, Attributes={
                    "Policy": json.dumps(props.get("PolicyDocument") or {})})

    def _topics(self) -> None:
        sns, sqs = self.client("sns"), self.client("sqs")
        for lid, _res in self._of_type("AWS::SNS::Topic"):
            sns.create_topic(Name=self.resolver.get_att(lid, "TopicName"))
            self.deployed.topic_arn = self.resolver.ref(lid)
        for _lid, res in self._of_type("AWS::SNS::Subscription"):
            props = self._props(res)
            sns.subscribe(TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"])
        if self.deployed.topic_arn:  # local only: how local mode reads what the topic sent
            url = sqs.create_queue(QueueName=f"{self.stack}-{ALERT_QUEUE}")["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
                "QueueArn"]
            sns.subscribe(TopicArn=self.deployed.topic_arn, Protocol="sqs", Endpoint=arn)
            self.deployed.alert_queue_url = url

    def _distributions(self) -> None:
        """A distribution with the template's S3 origins, so Ref gives a real id and
        CreateInvalidation has something to invalidate (nothing is served through it). With
        ``reserve`` (local mode's ``distributions``) it is named now and created when first asked."""
        for lid, res in self._of_type("AWS::CloudFront::Distribution"):
            config = (res.get("Properties") or {}).get("DistributionConfig") or {}
            origins = [{"Id": str(o["Id"]), "DomainName": str(self.resolver.resolve(o["DomainName"])),
                        "S3OriginConfig": {"OriginAccessIdentity": ""}}
                       for o in config.get("Origins") or [] if "S3OriginConfig" in o]
            if not origins:
                continue
            local_config = {
                "CallerReference": f"{self.stack}-{lid}", "Comment": f"local {lid}", "Enabled": True,
                "Origins": {"Quantity": len(origins), "Items": origins},
                "DefaultCacheBehavior": {"TargetOriginId": origins[0]["Id"],
                                         "ViewerProtocolPolicy": "redirect-to-https"}}
            if self.reserve is not None:
                made = self.reserve(local_config)
            else:
                made = self.client("cloudfront").create_distribution(
                    DistributionConfig=local_config)["Distribution"]
            refs, attrs = self.resolver.refs, self.resolver.attributes
            refs[lid] = made["Id"]  # type: ignore[index]
            attrs[(lid, "Id")] = made["Id"]  # type: ignore[index]
            attrs[(lid, "DomainName")] = made["DomainName"]  # type: ignore[index]
            self.deployed.distribution_id = made["Id"]

    def _functions(self, role: str) -> None:
        globals_fn = (self.template.get("Globals") or {}).get("Function") or {}
        package = io.BytesIO()
        with zipfile.ZipFile(package, "w") as zf:
            zf.writestr("placeholder.py", "# local mode runs the handler from CodeUri\n")
        for lid, res in self._of_type("AWS::Serverless::Function"):
            own = res.get("Properties") or {}
            props = self.resolver.resolve({k: v for k, v in {**globals_fn, **own}.items()
                                           if k in _FUNCTION_PROPERTIES})
            variables = self.resolver.resolve({
                **((globals_fn.get("Environment") or {}).get("Variables") or {}),
                **((own.get("Environment") or {}).get("Variables") or {})})
            name, runtime = self.resolver.ref(lid), str(props.get("Runtime", "python3.13"))
            memory, timeout = int(props.get("MemorySize", 128)), int(props.get("Timeout", 3))
            code_dir = (self.base_dir / str(props.get("CodeUri", "."))).resolve()
            reserved = props.get("ReservedConcurrentExecutions")
            spec = FunctionSpec(
                logical_id=lid, name=name, arn=self.resolver.get_att(lid, "Arn"),
                handler=str(props["Handler"]), code_dir=code_dir, memory_mb=memory, timeout_s=timeout,
                environment=lambda_environment(name, str(props["Handler"]), code_dir, memory, runtime,
                                               variables, lid),
                reserved_concurrency=int(reserved) if reserved is not None else None)
            self.client("lambda").create_function(
                FunctionName=name, Runtime=runtime, Role=role, Handler=spec.handler,
                Code={"ZipFile": package.getvalue()}, MemorySize=memory, Timeout=timeout,
                Environment={"Variables": {k: str(v) for k, v in variables.items()}})
            self.deployed.functions[lid] = spec
            if self.function_created is not None:
                self.function_created(spec)

    def _workflows(self, role: str) -> None:
        sfn = self.client("stepfunctions")
        for lid, res in state_machines(self.template):
            props = res.get("Properties") or {}
            main = lid == MAIN_WORKFLOW
            path = (self.definition_path if main and self.definition_path
                    else self.base_dir / props["DefinitionUri"])
            text = Path(path).read_text(encoding="utf-8")
            for name, value in self.resolver.resolve(props.get("DefinitionSubstitutions") or {}).items():
                text = text.replace("${" + name + "}", str(value))
            arn = self.resolver.ref(lid)
            try:
                sfn.create_state_machine(name=self.resolver.get_att(lid, "Name"), definition=for_moto(text),
                                         roleArn=role,
                                         type=str(self.resolver.resolve(props.get("Type", "STANDARD"))))
            except ClientError as exc:
                if main:
                    raise TemplateError(f"{lid}: local mode cannot run its definition: {exc}") from exc
                # moto's interpreter lacks some of ASL (a Distributed Map's ItemBatcher): say so, go on
                self.deployed.unavailable[lid] = str(exc).split("\n", 1)[0][:300]
                continue
            self.deployed.state_machines[lid] = arn
            self.deployed.definitions[lid] = json.loads(text)
            if main:
                self.deployed.state_machine_arn, self.deployed.definition = arn, json.loads(text)
            for event_id, event in rule_events(res):
                self._rule(lid, event_id, self.resolver.resolve(event.get("Properties") or {}), arn, role,
                           main=main)

    def _rule(self, lid: str, event_id: str, eprops: dict[str, Any], arn: str, role: str,
              main: bool) -> None:
        target: dict[str, Any] = {"Id": f"{lid}{event_id}StepFunctionsTarget", "Arn": arn, "RoleArn": role}
        if "RetryPolicy" in eprops:
            target["RetryPolicy"] = eprops["RetryPolicy"]
        dlq = eprops.get("DeadLetterConfig") or {}
        if dlq.get("Type") == "SQS":
            qid = dlq.get("QueueLogicalId") or f"{lid}EventsDeadLetterQueue"
            self.client("sqs").create_queue(QueueName=self.resolver.get_att(qid, "QueueName"))
            dlq = {"Arn": self.resolver.get_att(qid, "Arn")}
        if dlq.get("Arn"):
            target["DeadLetterConfig"] = {"Arn": dlq["Arn"]}
            if main:
                self.deployed.dead_letter_queue_url = self.client("sqs").get_queue_url(
                    QueueName=str(dlq["Arn"]).rsplit(":", 1)[-1])["QueueUrl"]
        rule = self.resolver.ref(f"{lid}{event_id}")
        if "Pattern" not in eprops:
            raise TemplateError(f"{lid}.Events.{event_id}: local mode runs pattern rules only")
        events = self.client("events")
        events.put_rule(Name=rule, EventPattern=json.dumps(eprops["Pattern"]),
                        State=str(eprops.get("State", "ENABLED")))
        events.put_targets(Rule=rule, Targets=[target])
        self.deployed.rules[f"{lid}{event_id}"] = rule
        if main:
            self.deployed.rule_name = rule
            self.deployed.rule_arn = self.resolver.get_att(f"{lid}{event_id}", "Arn")
