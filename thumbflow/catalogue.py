"""The catalogue's life in local mode: delete sources, list buckets, backfill after a Configure edit.

Each command acts as a user would on AWS: ``delete`` deletes source objects (the template's
Object Deleted rule starts the PurgeWorkflow), ``backfill`` starts the BackfillWorkflow,
``list`` reads a bucket. They wait for what they started and report it in the contract's
shapes (one JSON object per key or run).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from .local import LocalCloud
from .outcomes import events_about

BUCKETS = ("source", "thumbnails")


def delete(cloud: LocalCloud, keys: Sequence[str], timeout: float = 300) -> list[dict[str, Any]]:
    """DeleteObject each source key, wait for the purge each delete started, report it."""
    before = len(cloud.started)
    s3 = cloud.client("s3")
    for key in keys:
        s3.delete_object(Bucket=cloud.deployed.source_bucket, Key=key)
    started = {event["detail"]["object"]["key"]: arn for arn, event in cloud.started[before:]
               if event.get("detail-type") == "Object Deleted"}
    rows = []
    for key in keys:
        arn = started.get(key)
        if arn is None:
            rows.append({"key": key, "status": "NOT_STARTED", "outcome": None, "purged": [],
                         "execution": "", "events": [],
                         "cause": "the delete did not match the Delete rule (KeyPrefix/AllowedSuffixes)"})
            continue
        desc = cloud.wait(arn, timeout=timeout)
        output = json.loads(desc.get("output") or "null") or {}
        rows.append({
            "key": key,
            "status": desc["status"],
            "outcome": "purged" if "purged" in output else output.get("outcome"),
            "purged": output.get("purged", []),
            "kept": output.get("kept", []),
            "execution": arn,
            "error": desc.get("error"),
            "cause": desc.get("cause"),
            "events": events_about(cloud, key, arn),
        })
    return rows


def listing(cloud: LocalCloud, which: str) -> list[dict[str, Any]]:
    """Every object of the local source or thumbnail bucket: key, bytes, tags."""
    bucket = cloud.deployed.source_bucket if which == "source" else cloud.deployed.thumbnail_bucket
    s3 = cloud.client("s3")
    rows = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            tags = s3.get_object_tagging(Bucket=bucket, Key=obj["Key"])["TagSet"]
            rows.append({"key": obj["Key"], "bytes": int(obj["Size"]),
                         "tags": {t["Key"]: t["Value"] for t in tags}})
    return rows


def backfill(cloud: LocalCloud, prefix: str | None, *, timeout: float = 3600,
             progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Start the BackfillWorkflow, wait for it, report its totals."""
    arn = cloud.execute({} if prefix is None else {"prefix": prefix},
                        state_machine=cloud.deployed.state_machine_of("BackfillWorkflow"))
    total = len(cloud.objects(cloud.deployed.source_bucket)) if progress else 0
    deadline = time.monotonic() + timeout
    while (desc := cloud.describe(arn))["status"] == "RUNNING":
        if progress is not None:
            progress(min(total, _children_done(cloud, arn)), total)
        if time.monotonic() > deadline:
            raise TimeoutError(f"{arn} still running after {timeout}s")
        time.sleep(0.05)
    if progress is not None:
        progress(total, total)
    summary = json.loads(desc.get("output") or "null") or {}
    return {
        "execution": arn,
        "status": desc["status"],
        "sources": summary.get("sources", 0),
        "rendered": summary.get("rendered", 0),
        "current": summary.get("current", 0),
        "skipped": sum((summary.get("skipped") or {}).values()),
        "skippedBy": summary.get("skipped") or {},
        "failed": summary.get("failed", 0),
        "failures": summary.get("failures", []),
        "error": desc.get("error"),
        "cause": desc.get("cause"),
    }


def _children_done(cloud: LocalCloud, parent_arn: str) -> int:
    """How many thumbnail executions ended since the backfill started (for the progress bar)."""
    since = cloud.describe(parent_arn)["startDate"]
    done = 0
    paginator = cloud.client("stepfunctions").get_paginator("list_executions")
    for page in paginator.paginate(stateMachineArn=cloud.deployed.state_machine_arn):
        done += sum(1 for e in page["executions"] if e["status"] != "RUNNING" and e["startDate"] >= since)
    return done
