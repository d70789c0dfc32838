"""Backfill step: which listed sources are behind the current Configure, and the run's totals.

Thin handler for the BackfillWorkflow's two Lambda tasks. ``check`` takes one batch of
the Distributed Map (S3 listing items), reads Configure's sizes from the deployed
thumbnail workflow (the one place sizes are defined), and answers which sources are
stale; the workflow runs the thumbnail workflow on those. ``summarise`` adds up the
batches' results.
"""

from __future__ import annotations

import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from . import allowlist, settings, staleness
from .observability import count, lambda_handler, logger


@lambda_handler(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """``{"action": "check", "Items": [...]}`` or ``{"action": "summarise", "batches": [...]}``."""
    if event.get("action") == "summarise":
        totals = staleness.summarise(event.get("batches") or [])
        logger.info("backfill finished", extra={k: v for k, v in totals.items() if k != "failures"})
        return totals
    configured = allowlist.CONFIGURE.configured(os.environ["STATE_MACHINE_ARN"])
    suffixes = [s for s in os.environ.get("ROUTED_SUFFIXES", "").split(",") if s]
    batch = staleness.check(settings.load(), event.get("Items") or [], configured.sizes, suffixes,
                            moderated=configured.moderated)
    count("BackfillChecked", batch.checked)
    count("BackfillStale", len(batch.stale))
    logger.info("batch checked", extra={"checked": batch.checked, "stale": len(batch.stale),
                                        "current": batch.current, "skipped": batch.skipped})
    return batch.to_payload()
