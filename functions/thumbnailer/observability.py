"""Logs, traces and metrics for every handler, set up once: one decorator instead of four copies.

Powertools' Logger (JSON lines with the Lambda context and a correlation id),
Tracer (X-Ray, built by ``tracing`` so cold start pays for it only when tracing
is on) and Metrics (CloudWatch EMF) are made here; ``lambda_handler`` wraps a
handler in all three, in the order Powertools documents.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from . import tracing

logger = Logger()
tracer = Tracer(provider=tracing.provider(), patch_modules=tracing.PATCH_MODULES)
metrics = Metrics()

Handler = TypeVar("Handler", bound=Callable[..., Any])


def lambda_handler(*, correlation_id_path: str) -> Callable[[Handler], Handler]:
    """Inject the Lambda context into logs, trace the invocation, flush metrics at the end."""

    def wrap(fn: Handler) -> Handler:
        traced = tracer.capture_lambda_handler(capture_response=False)(metrics.log_metrics(fn))
        return logger.inject_lambda_context(correlation_id_path=correlation_id_path)(traced)  # type: ignore[return-value]

    return wrap


def count(name: str, value: float = 1) -> None:
    """One CloudWatch count metric, flushed when the invocation ends."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
