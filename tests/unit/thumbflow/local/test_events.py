"""EventBridge's delivery to a Step Functions target: matching, retries, the dead-letter queue.

A rule object with the attributes moto's has stands in for it; StartExecution and the
dead-letter SendMessage are fakes that fail as the API would.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ClientError

from thumbflow.local.events import Delivery
from thumbflow.local.wire import Wire

TARGET_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:flow"
DLQ = "arn:aws:sqs:us-east-1:123456789012:dlq"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/upload"
PATTERN = {"source": ["aws.s3"], "detail": {"object": {"key": [{"suffix": {"equals-ignore-case": ".jpg"}}]}}}


def rule(retry: dict[str, int] | None = None, state: str = "ENABLED") -> Any:
    target: dict[str, Any] = {"Id": "t", "Arn": TARGET_ARN, "DeadLetterConfig": {"Arn": DLQ}}
    if retry is not None:
        target["RetryPolicy"] = retry
    return SimpleNamespace(targets=[target], state=state, arn=RULE_ARN,
                           event_pattern=SimpleNamespace(dump=lambda: json.dumps(PATTERN)))


def event(key: str) -> dict[str, Any]:
    return {"source": "aws.s3", "detail": {"object": {"key": key}}}


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code} (fake)"},
                        "ResponseMetadata": {"HTTPStatusCode": status}}, "StartExecution")


class Fakes:
    def __init__(self, failures: list[ClientError]) -> None:
        self.failures = list(failures)
        self.started: list[tuple[str, dict[str, Any]]] = []
        self.dead: list[tuple[str, str, dict[str, str]]] = []

    def start(self, arn: str, payload: dict[str, Any]) -> str:
        if self.failures:
            raise self.failures.pop(0)
        self.started.append((arn, payload))
        return f"{arn}:execution:{len(self.started)}"

    def dead_letter(self, queue: str, body: str, attributes: dict[str, str]) -> None:
        self.dead.append((queue, body, attributes))


def delivery(fakes: Fakes) -> Delivery:
    return Delivery(Wire(), fakes.start, fakes.dead_letter, "123456789012", "us-east-1", time_scale=0.0001)


def deliver(d: Delivery, the_rule: Any, the_event: dict[str, Any]) -> None:
    d._rule_received(the_rule, the_event, False, lambda *args: pytest.fail("moto's own path was taken"))


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_matching_event_starts_one_execution_with_the_event_as_input() -> None:
    fakes = Fakes([])
    d = delivery(fakes)
    deliver(d, rule(), event("a/IMG.JPG"))
    deliver(d, rule(), event("a/notes.txt"))
    deliver(d, rule(state="DISABLED"), event("b.jpg"))
    assert fakes.started == [(TARGET_ARN, event("a/IMG.JPG"))]
    assert d.started == [(f"{TARGET_ARN}:execution:1", event("a/IMG.JPG"))]


def test_errors_retrying_cannot_fix_go_straight_to_the_dead_letter_queue() -> None:
    fakes = Fakes([client_error("StateMachineDoesNotExist", 400)])
    d = delivery(fakes)
    deliver(d, rule(), event("x.jpg"))
    assert fakes.started == [] and len(fakes.dead) == 1
    queue, body, attributes = fakes.dead[0]
    assert queue == DLQ and json.loads(body) == event("x.jpg")
    assert attributes == {"RULE_ARN": RULE_ARN, "TARGET_ARN": TARGET_ARN,
                          "ERROR_CODE": "StateMachineDoesNotExist",
                          "ERROR_MESSAGE": "StateMachineDoesNotExist (fake)", "RETRY_ATTEMPTS": "0"}


def test_throttling_and_5xx_are_retried_then_delivered() -> None:
    fakes = Fakes([client_error("ThrottlingException", 400), client_error("InternalFailure", 500)])
    d = delivery(fakes)
    deliver(d, rule(), event("y.jpg"))
    wait_for(lambda: d.started)
    assert fakes.started == [(TARGET_ARN, event("y.jpg"))] and fakes.dead == []
    d.stop()


def test_retries_stop_at_the_policy_and_say_so() -> None:
    fakes = Fakes([client_error("ThrottlingException", 400)] * 3)
    d = delivery(fakes)
    deliver(d, rule({"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600}), event("z.jpg"))
    wait_for(lambda: fakes.dead)
    attributes = fakes.dead[0][2]
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["RETRY_ATTEMPTS"] == "2" and fakes.started == []
    d.stop()
