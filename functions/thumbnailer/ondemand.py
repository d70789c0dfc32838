"""On-demand resizer: Lambda function URL handler (payload format 2.0).

Thin handler: read the path and method from the event (Powertools' function URL
data class), let ``ondemand_core`` decide, shape its answer as a function URL
response. A miss at the thumbnail endpoint lands here; the answer is the image
itself, or a 302 to the stored object when it is too large for a Lambda response.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import LambdaFunctionUrlEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from . import allowlist, ondemand_core, settings
from .observability import count, lambda_handler, logger
from .responses import error


@lambda_handler(correlation_id_path=correlation_paths.LAMBDA_FUNCTION_URL)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Function URL event in, function URL response out; never an unhandled error (a bare 502)."""
    request = LambdaFunctionUrlEvent(event)
    try:
        raw_path = request.raw_path or "/"
        method = (request.request_context.http.method or "GET").upper()
        if not isinstance(raw_path, str):
            raise TypeError("rawPath is not a string")
    except (KeyError, TypeError, AttributeError):
        count("OnDemandRefused")
        return error(400, "bad-request", "not a function URL request").to_function_url()
    logger.append_keys(path=raw_path, method=method)
    try:
        response = ondemand_core.answer(
            raw_path, method, settings=settings.load(), allow=allowlist.load
        )
    except Exception:
        logger.exception("on-demand resize failed")
        count("OnDemandErrors")
        response = error(500, "internal", "see the function log")
    if response.outcome == "rendered":
        count("ThumbnailsWritten")
    count("OnDemandServed" if response.status < 400 else "OnDemandRefused")
    logger.info("answered", extra={"status": response.status, "outcome": response.outcome})
    return response.to_function_url(head=method == "HEAD")
