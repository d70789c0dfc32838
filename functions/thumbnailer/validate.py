"""Validate step: is this input an upload we make thumbnails of, and how?

Thin handler: read the state's payload, let ``validation.decide`` judge it, log and
count the verdict, return it for the definition to route. Named outcomes
(rejected, misconfigured, superseded, ignored) are answers; only transient
failures and bugs are raised, for the definition's Retry.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import settings, validation
from .observability import count, lambda_handler, logger

_METRIC = {
    "accepted": "ImagesAccepted",
    "rejected": "ImagesRejected",
    "misconfigured": "ConfigErrors",
    "superseded": "ImagesSuperseded",
    "ignored": "InputsIgnored",
}


@lambda_handler(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Payload: ``{input, sizes, groupMaxPixels, moderation, alerts, execution}`` (see the definition)."""
    verdict = validation.decide(
        event.get("input"),
        sizes=event.get("sizes") or [],
        group_max_pixels=event.get("groupMaxPixels") or 0,
        moderation=event.get("moderation") or {},
        settings=settings.load(),
    )
    payload = verdict.to_payload(event.get("alerts") or {})
    logger.append_keys(bucket=payload["object"]["bucket"], key=payload["object"]["key"])
    count(_METRIC[verdict.verdict])
    if verdict.verdict == "accepted":
        assert verdict.source is not None
        logger.info("accepted", extra={"format": verdict.source.format, "width": verdict.source.width,
                                       "height": verdict.source.height, "groups": len(verdict.groups)})
    else:
        logger.warning(verdict.verdict, extra={"reason": verdict.reason, "cause": verdict.cause})
    return payload
