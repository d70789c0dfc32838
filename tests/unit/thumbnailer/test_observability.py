"""One decorator gives every handler its log context, trace and metrics."""

from __future__ import annotations

from typing import Any

import pytest
from thumbnailer import observability
from thumbnailer.observability import count, lambda_handler, logger

from tests.unit.conftest import Context, emitted_metrics


def test_a_wrapped_handler_runs_with_the_lambda_context_and_flushes_its_metrics(
    context: Context, capsys: pytest.CaptureFixture[str]
) -> None:
    seen: dict[str, Any] = {}

    @lambda_handler(correlation_id_path="execution")
    def handler(event: dict[str, Any], ctx: Context) -> dict[str, Any]:
        seen.update(keys=logger.get_current_keys(), correlation=logger.get_correlation_id())
        count("UnitThings", 3)
        return {"echo": event["n"]}

    assert handler({"n": 7, "execution": "arn:exec:1"}, context) == {"echo": 7}
    assert seen["correlation"] == "arn:exec:1"
    assert seen["keys"]["function_name"] == context.function_name
    assert seen["keys"]["function_request_id"] == context.aws_request_id
    out = capsys.readouterr().out
    assert emitted_metrics(out) == {"UnitThings": 3}


def test_an_error_still_leaves_the_handler_as_that_error(context: Context) -> None:
    @lambda_handler(correlation_id_path="execution")
    def handler(event: dict[str, Any], ctx: Context) -> None:
        count("BeforeFailing")
        raise KeyError("boom")

    with pytest.raises(KeyError):
        handler({}, context)


def test_the_tracer_is_the_null_one_outside_lambda() -> None:
    from thumbnailer.tracing import NoTracing

    assert isinstance(observability.tracer.provider, NoTracing)
