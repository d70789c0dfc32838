"""On-demand resizer: Lambda function URL handler (payload format 2.0).

Thin handler: take the path and method from the event, let ``ondemand_core``
decide, shape its answer as a Function URL response. A miss at the thumbnail
endpoint lands here; the answer is the image itself, or a 302 to the stored
object when it is too large for a Lambda response.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import ondemand_core, tracing
from . import settings as settings_mod

logger = Logger()
tracer = Tracer(provider=tracing.provider(), patch_modules=tracing.PATCH_MODULES)
metrics = Metrics()


def _method(event: dict[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method", "GET")).upper()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Function URL event in, Function URL response out; never an unhandled error (that is a bare 502)."""
    raw_path = str(event.get("rawPath") or "/")
    method = _method(event)
    logger.append_keys(path=raw_path, method=method)
    try:
        response = ondemand_core.answer(
            raw_path,
            method,
            settings=settings_mod.load(),
            allow=ondemand_core.load_allowlist(),
        )
    except Exception:
        logger.exception("on-demand resize failed")
        metrics.add_metric(name="OnDemandErrors", unit=MetricUnit.Count, value=1)
        return {
            "statusCode": 500,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
            "body": '{"error": "internal", "message": "see the function log"}',
            "isBase64Encoded": False,
        }
    if response.outcome == "rendered":
        metrics.add_metric(name="ThumbnailsWritten", unit=MetricUnit.Count, value=1)
    metrics.add_metric(
        name="OnDemandServed" if response.status < 400 else "OnDemandRefused",
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info("answered", extra={"status": response.status, "outcome": response.outcome})
    return response.to_function_url(head=method == "HEAD")
