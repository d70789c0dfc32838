"""What a local run shows: executions' status and history, alerts, outcome events, objects.

The read side of ``LocalCloud`` (which mixes this in): everything a test or the CLI asks
of a run once it has started. Statuses are read from moto directly while an execution runs
(polling DescribeExecution through the SDK would cost the process that serves every request
milliseconds of CPU a poll); everything else goes through the APIs, as a user's tools would.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .names import ACCOUNT, REGION

if TYPE_CHECKING:
    from .deploy import Deployed

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


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



class Observing:
    """Reading a running local cloud: mixed into ``LocalCloud``, which provides these."""

    deployed: Deployed
    _alerts: list[Alert]
    _events: list[dict[str, Any]]
    _read_lock: threading.Lock

    def client(self, service: str) -> Any:  # pragma: no cover - LocalCloud's
        raise NotImplementedError

    def describe(self, execution_arn: str) -> dict[str, Any]:
        return self.client("stepfunctions").describe_execution(executionArn=execution_arn)

    def wait(self, execution_arn: str, timeout: float = 300) -> dict[str, Any]:
        """Block until the execution ends; returns describe_execution's answer.

        While it runs, its status is read from moto directly: polling DescribeExecution through
        the SDK costs this process (which serves every request) milliseconds of CPU a poll."""
        deadline = time.monotonic() + timeout
        delay = 0.002
        while True:
            status = self._status(execution_arn)
            if status is None or status in TERMINAL:
                desc = self.describe(execution_arn)
                if desc["status"] in TERMINAL:
                    return desc
            if time.monotonic() > deadline:
                raise TimeoutError(f"{execution_arn} still {status} after {timeout}s")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.01)

    def wait_all(self, timeout: float = 600, raise_on_timeout: bool = True) -> None:
        """Wait for every execution of every state machine to end."""
        deadline = time.monotonic() + timeout
        while True:
            running = self._running()
            if not running:
                return
            if time.monotonic() > deadline:
                if raise_on_timeout:
                    raise TimeoutError(f"{len(running)} executions still running")
                return
            time.sleep(0.01)

    def _status(self, execution_arn: str) -> str | None:
        """The execution's status as moto holds it (None: ask the API)."""
        from moto.stepfunctions.responses import get_backend

        try:
            status = get_backend(ACCOUNT, REGION).describe_execution(execution_arn).status
        except Exception:  # not moto's to answer here (unknown execution, another backend)
            return None
        return str(getattr(status, "value", status))

    def _running(self) -> list[str]:
        from moto.stepfunctions.responses import get_backend

        backend = get_backend(ACCOUNT, REGION)
        running = []
        for arn in self.deployed.state_machines.values():
            for execution in backend.describe_state_machine(arn).executions:
                if str(getattr(execution.status, "value", execution.status)) == "RUNNING":
                    running.append(execution.execution_arn)
        return running

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
        """Every message published to the alert topic so far (read from local mode's own queue)."""
        with self._read_lock:
            for body in self._drain(self.deployed.alert_queue_url):
                envelope = json.loads(body)
                self._alerts.append(Alert(subject=envelope.get("Subject") or "",
                                          message=envelope.get("Message", "")))
            return list(self._alerts)

    def events(self) -> list[dict[str, Any]]:
        """Every event the application published to the default bus so far (PutEvents from the
        workflows), as EventBridge delivers it; read from local mode's own rule and queue."""
        with self._read_lock:
            self._events.extend(json.loads(body) for body in self._drain(self.deployed.events_queue_url))
            return list(self._events)

    def _drain(self, url: str) -> list[str]:
        if not url:
            return []
        sqs, bodies = self.client("sqs"), []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=0).get("Messages", []):
            bodies.extend(m["Body"] for m in got)
            sqs.delete_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
        return bodies

    def objects(self, bucket: str) -> list[str]:
        keys: list[str] = []
        for page in self.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys.extend(obj["Key"] for obj in page.get("Contents", []))
        return keys
