"""The unit tier runs without an emulator: a run fails if any unit test imports moto.

Two checks, because an import is only seen once per process: an import hook names the
unit test file whose code first imports a moto module (any run order), and after
collection every unit test module's globals are followed through the project's own
modules to moto (catches a module-level import when another tier loaded moto first).

Also the S3 (with DynamoDB, where the stems' name claims live) and Step Functions stubs the
Lambda code's unit tests share: botocore's ``Stubber`` on real clients, so every request is
checked against the service model and nothing leaves the process.
"""

from __future__ import annotations

import importlib.abc
import io
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.client import Config
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

UNIT = Path(__file__).resolve().parent
REPO = UNIT.parents[1]
PROJECT_PACKAGES = ("tests", "thumbflow", "thumbnailer")

_offenders: dict[str, str] = {}  # where -> the first moto module it imported


def _is_moto(name: str) -> bool:
    return name == "moto" or name.startswith("moto.")


class _MotoWatch(importlib.abc.MetaPathFinder):
    """Notes which unit test file's code is running when a moto module is first imported."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if _is_moto(fullname):
            for frame in reversed(traceback.extract_stack()):
                where = Path(frame.filename)
                if where != Path(__file__) and where.is_relative_to(UNIT):
                    _offenders.setdefault(f"{where.relative_to(REPO)}:{frame.lineno}", f"imports {fullname}")
                    break
        return None


sys.meta_path.insert(0, _MotoWatch())


def _reaches_moto(module: ModuleType, seen: set[str]) -> str | None:
    """The moto module that ``module``'s globals lead to, through project modules only."""
    for value in list(vars(module).values()):
        try:
            name = value.__name__ if isinstance(value, ModuleType) else getattr(value, "__module__", None)
        except Exception:  # a lazy proxy may raise anything: it names no module
            continue
        if not isinstance(name, str) or name in seen:
            continue
        seen.add(name)
        if _is_moto(name):
            return name
        target = sys.modules.get(name)
        if target is not None and name.split(".")[0] in PROJECT_PACKAGES:
            found = _reaches_moto(target, seen)
            if found:
                return found
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    modules = {id(m): m for item in session.items if (m := getattr(item, "module", None)) is not None}
    for module in modules.values():
        if module.__file__ and Path(module.__file__).is_relative_to(UNIT):
            found = _reaches_moto(module, set())
            if found:
                _offenders.setdefault(str(Path(module.__file__).relative_to(REPO)), f"reaches {found}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _offenders:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line("unit tests must not use the emulator; moto was imported by:", red=True)
        for where, what in sorted(_offenders.items()):
            reporter.write_line(f"  {where} {what}", red=True)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


# --------------------------------------------------------------------------------------
# stubs

_SESSION = boto3.session.Session(
    aws_access_key_id="unit", aws_secret_access_key="unit", region_name="us-east-1"
)


_CLIENTS: dict[str, Any] = {}


def client(service: str) -> Any:
    """A real client that signs with fake keys (one per service: making one costs ~10 ms).

    Stubbed, it never sends: each test activates a fresh Stubber on it.
    """
    if service not in _CLIENTS:
        _CLIENTS[service] = _SESSION.client(service, config=Config(retries={"mode": "standard",
                                                                             "max_attempts": 3}))
    return _CLIENTS[service]


def body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


class CountingStubber(Stubber):
    """A Stubber that counts what was queued, so a test can tell an extra call from none.

    The code under test turns the Stubber's own errors (BotoCoreError) into TransientError,
    so an unexpected call could look like a throttled one: the fixture compares counts.
    """

    queued = 0

    def add_response(self, method: str, service_response: Any, expected_params: Any = None) -> None:
        self.queued += 1
        super().add_response(method, service_response, expected_params)

    def add_client_error(self, method: str, *args: Any, **kwargs: Any) -> None:
        self.queued += 1
        super().add_client_error(method, *args, **kwargs)


HEADER_READ = 64 * 1024  # the first ranged read of a source's header


CLAIMS = "unit-claims"  # the name-claims table (CLAIMS_TABLE)


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    service: str = "s3"


def claim_item(stem: str, source_key: str) -> dict[str, Any]:
    """A stem's claim as the table holds it."""
    return {"stem": {"S": stem}, "source": {"S": source_key}}


@dataclass
class S3Stub:
    """Queue S3 answers in the order the code must ask; ``calls`` records what it asked.

    The stems' name claims are DynamoDB items (``ownership``): the claim helpers queue their
    answers on ``dynamodb``, and its requests are recorded in the same ``calls`` (service
    ``dynamodb``), so "nothing written" covers the claims too.
    """

    stubber: CountingStubber
    dynamodb: CountingStubber | None = None
    calls: list[Call] = field(default_factory=list)

    def head(self, bucket: str, key: str, *, etag: str, size: int, metadata: dict[str, str] | None = None,
             content_type: str = "image/jpeg", version: str | None = None, **expected: Any) -> None:
        resp: dict[str, Any] = {"ETag": f'"{etag}"', "ContentLength": size, "ContentType": content_type,
                                "Metadata": metadata or {}}
        if version:
            resp["VersionId"] = version
        self.stubber.add_response("head_object", resp, {"Bucket": bucket, "Key": key, **expected})

    def get(self, bucket: str, key: str, data: bytes, *, etag: str = "etag", content_type: str = "image/jpeg",
            metadata: dict[str, str] | None = None, **expected: Any) -> None:
        resp = {"Body": body(data), "ETag": f'"{etag}"', "ContentLength": len(data),
                "ContentType": content_type, "Metadata": metadata or {}}
        self.stubber.add_response("get_object", resp, {"Bucket": bucket, "Key": key, **expected})

    def put(self, *, etag: str = "written") -> None:
        """A PutObject that succeeds; its parameters are checked through ``calls``."""
        self.stubber.add_response("put_object", {"ETag": f'"{etag}"'})

    def header(self, bucket: str, key: str, data: bytes, *, etag: str) -> None:
        """The first read of a source's header: at most 64 KiB, pinned to its ETag."""
        end = min(HEADER_READ, len(data))
        self.get(bucket, key, data[:end], etag=etag, IfMatch=f'"{etag}"', Range=f"bytes=0-{end - 1}")

    @property
    def claims(self) -> CountingStubber:
        assert self.dynamodb is not None, "this stub has no DynamoDB client"
        return self.dynamodb

    def claim(self, stem: str, owner: str | None = None, *, item: dict[str, Any] | None = None,
              table: str = CLAIMS) -> None:
        """The strongly consistent GetItem of a stem's name claim: absent (``owner`` None) or naming
        ``owner`` (``item``: the item exactly as stored, e.g. an unreadable one)."""
        if item is None and owner is not None:
            item = claim_item(stem, owner)
        self.claims.add_response("get_item", {} if item is None else {"Item": item},
                                 {"TableName": table, "Key": {"stem": {"S": stem}}, "ConsistentRead": True})

    def claim_put(self, stem: str, source_key: str, *, seen: str | None = None, table: str = CLAIMS,
                  lost: bool = False) -> None:
        """The conditional PutItem of a claim naming ``source_key``: only if the stem is unclaimed,
        or (``seen``) only while ``seen`` still owns it, to take over. ``lost``: the condition failed."""
        expected = {"TableName": table, "Item": claim_item(stem, source_key),
                    **claim_condition(seen, source_key)}
        if lost:
            self.claims.add_client_error("put_item", service_error_code="ConditionalCheckFailedException",
                                         service_message="The conditional request failed",
                                         http_status_code=400, expected_params=expected)
        else:
            self.claims.add_response("put_item", {}, expected)

    def first_claim(self, stem: str, source_key: str, **put: Any) -> None:
        """Nobody claimed the stem yet: the GetItem finds nothing, the conditional PutItem wins."""
        self.claim(stem, table=put.get("table", CLAIMS))
        self.claim_put(stem, source_key, **put)

    def release(self, stem: str, source_key: str, *, held: bool = True, table: str = CLAIMS) -> None:
        """The one conditional DeleteItem of the purge: it held the claim, or (``held`` False) not."""
        expected = {"TableName": table, "Key": {"stem": {"S": stem}}, "ConditionExpression": "#src = :me",
                    "ExpressionAttributeNames": {"#src": "source"},
                    "ExpressionAttributeValues": {":me": {"S": source_key}}}
        if held:
            self.claims.add_response("delete_item", {}, expected)
        else:
            self.claims.add_client_error("delete_item", service_error_code="ConditionalCheckFailedException",
                                         service_message="The conditional request failed",
                                         http_status_code=400, expected_params=expected)

    def claim_error(self, operation: str, code: str, status: int) -> None:
        """A DynamoDB request (get_item, put_item, delete_item) answered with a service error."""
        self.claims.add_client_error(operation, service_error_code=code, service_message=code,
                                     http_status_code=status)

    def lease(self, bucket: str, thumbnail_key: str, *, etag: str = "lease") -> None:
        """The on-demand render lease won: ``<key>.rendering`` (a random token, tagged as a lease)
        written If-None-Match."""
        self.stubber.add_response("put_object", {"ETag": f'"{etag}"'}, {
            "Bucket": bucket, "Key": thumbnail_key + ".rendering", "Body": ANY,
            "ContentType": "text/plain", "Metadata": {"expires": ANY}, "Tagging": "thumbflow-lease=yes",
            "IfNoneMatch": "*"})

    def lease_dropped(self, bucket: str, thumbnail_key: str, *, etag: str = "lease") -> None:
        """The lease removed after the render, only while it is still the one this request wrote."""
        self.stubber.add_response("delete_object", {}, {
            "Bucket": bucket, "Key": thumbnail_key + ".rendering", "IfMatch": f'"{etag}"'})

    def source(self, bucket: str, key: str, data: bytes, *, etag: str, size: int | None = None,
               version: str | None = None, **expected: Any) -> None:
        """Validate's look at a source: one ranged GET of its first 64 KiB, which also tells its
        whole size (Content-Range), so the header needs no second read."""
        size = len(data) if size is None else size
        part = data[:HEADER_READ].ljust(min(HEADER_READ, size), b"\0")  # a larger object's first bytes
        resp: dict[str, Any] = {"Body": body(part), "ETag": f'"{etag}"', "ContentLength": len(part),
                                "ContentRange": f"bytes 0-{max(0, len(part) - 1)}/{size}",
                                "ContentType": "image/jpeg", "Metadata": {}}
        if version:
            resp["VersionId"] = version
        self.stubber.add_response("get_object", resp, {
            "Bucket": bucket, "Key": key, "Range": f"bytes=0-{HEADER_READ - 1}", **expected})

    def no_source(self, bucket: str | None = None, key: str | None = None) -> None:
        """Validate's look at a source that is not there (the ranged GET's 404)."""
        expected = None
        if bucket is not None:
            expected = {"Bucket": bucket, "Key": key, "Range": f"bytes=0-{HEADER_READ - 1}"}
        self.error("get_object", "NoSuchKey", 404, expected)

    def error(self, operation: str, code: str, status: int, expected: dict[str, Any] | None = None) -> None:
        self.stubber.add_client_error(operation, service_error_code=code, service_message=code,
                                      http_status_code=status, expected_params=expected)

    def made(self, operation: str) -> list[dict[str, Any]]:
        return [c.params for c in self.calls if c.operation == operation]

    def of(self, service: str) -> list[Call]:
        """The calls made to one service (``s3`` or ``dynamodb``)."""
        return [c for c in self.calls if c.service == service]


def claim_condition(seen: str | None, source_key: str | None = None) -> dict[str, Any]:
    """The condition of a claim's PutItem: the stem unclaimed, or still owned by ``seen`` (when
    ``seen`` is the source itself, its claim kept: still its own, or nobody's)."""
    if seen is None:
        return {"ConditionExpression": "attribute_not_exists(stem)"}
    if seen == source_key:
        return {"ConditionExpression": "attribute_not_exists(stem) OR #src = :seen",
                "ExpressionAttributeNames": {"#src": "source"},
                "ExpressionAttributeValues": {":seen": {"S": seen}}}
    return {"ConditionExpression": "#src = :seen", "ExpressionAttributeNames": {"#src": "source"},
            "ExpressionAttributeValues": {":seen": {"S": seen}}}


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[S3Stub]:
    """``storage.s3()`` and ``ownership.dynamodb()`` answer from Stubbers: any request not
    queued fails the test."""
    from thumbnailer import ownership, storage

    s3_client, ddb_client = client("s3"), client("dynamodb")
    stub = S3Stub(CountingStubber(s3_client), CountingStubber(ddb_client))
    clients = {"s3": s3_client, "dynamodb": ddb_client}

    def recorder(service: str) -> Callable[..., None]:
        def record(params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
            if not context.get("is_presign_request"):
                stub.calls.append(Call(model.name, dict(params), service))
        return record

    # Emitted before the Stubber's own checks run, so an unexpected call is recorded too.
    for service, made in clients.items():
        made.meta.events.register(f"provide-client-params.{service}", recorder(service),
                                  unique_id="unit-record")
    monkeypatch.setattr(storage.s3, "client", s3_client)
    monkeypatch.setattr(ownership.dynamodb, "client", ddb_client)
    try:
        with stub.stubber, stub.claims:
            yield stub
    finally:
        for service, made in clients.items():
            made.meta.events.unregister(f"provide-client-params.{service}", unique_id="unit-record")
    stub.stubber.assert_no_pending_responses()
    stub.claims.assert_no_pending_responses()
    for service, stubber in (("s3", stub.stubber), ("dynamodb", stub.claims)):
        extra = [c.operation for c in stub.of(service)[stubber.queued :]]
        assert not extra, f"{service} calls nobody queued an answer for: {extra}"


def described(sfn: CountingStubber, definition: str) -> str:
    """A deployed workflow with ``definition``, described once; its ARN, fresh each time (what
    reads Configure caches per ARN)."""
    arn = f"arn:aws:states:us-east-1:123456789012:stateMachine:unit-{uuid.uuid4().hex}"
    sfn.add_response(
        "describe_state_machine",
        {"stateMachineArn": arn, "name": "unit", "definition": definition,
         "roleArn": "arn:aws:iam::123456789012:role/unit", "type": "STANDARD",
         "creationDate": datetime(2026, 1, 1, tzinfo=UTC)},
        {"stateMachineArn": arn},
    )
    return arn


@pytest.fixture
def sfn(monkeypatch: pytest.MonkeyPatch) -> Iterator[CountingStubber]:
    """The allowlist's Step Functions client (how it describes the workflow) is stubbed."""
    from thumbnailer import allowlist

    sfn_client = client("stepfunctions")
    stubber = CountingStubber(sfn_client)
    monkeypatch.setattr(allowlist.STEPFUNCTIONS, "client", sfn_client)
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


SOURCE = "unit-source"
THUMBS = "unit-thumbs"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """The function's environment as template.yaml sets it; returns ``settings.load()``."""
    from thumbnailer import settings

    for name in ("ALLOWED_SUFFIXES", "STATE_MACHINE_ARN", "ON_DEMAND_SIZES", "THUMBNAIL_CACHE_CONTROL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOURCE_BUCKET", SOURCE)
    monkeypatch.setenv("THUMBNAIL_BUCKET", THUMBS)
    monkeypatch.setenv("MAX_SOURCE_BYTES", str(50 * 1024 * 1024))
    monkeypatch.setenv("MAX_SOURCE_PIXELS", str(100_000_000))
    monkeypatch.setenv("CLAIMS_TABLE", CLAIMS)

    def load(**overrides: str) -> Any:
        for name, value in overrides.items():
            monkeypatch.setenv(name, value)
        return settings.load()

    return load


@dataclass
class Context:
    """What Lambda passes as ``context`` and Powertools reads from it."""

    function_name: str = "unit-function"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:unit-function"
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def context(monkeypatch: pytest.MonkeyPatch) -> Context:
    """A Lambda context; the handlers' metrics get a namespace, as the template gives them."""
    from thumbnailer import observability

    monkeypatch.setattr(observability.metrics.provider, "namespace", "thumbflow-unit")
    return Context()


def emitted_metrics(out: str, namespace: str = "thumbflow-unit") -> dict[str, float]:
    """Metric name -> total from the CloudWatch EMF lines a handler printed in ``namespace``."""
    found: dict[str, float] = {}
    for line in out.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                if directive["Namespace"] != namespace:
                    continue
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    found[metric["Name"]] = sum(value) if isinstance(value, list) else value
    return found
