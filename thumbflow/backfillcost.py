"""What a backfill costs per million sources, measured the way `thumbflow cost` measures uploads.

``python -m thumbflow.backfillcost [PATH...]`` (``make backfill-cost``) uploads the images
in local mode, lets the workflow make their thumbnails, then runs the BackfillWorkflow
over them (every source current) and prices what that run did: every AWS request by price
class, the backfill Lambda's billed time, and the state transitions. Local mode runs the
Distributed Map's children with one source each (docs/aws-fidelity.md); on AWS a child
takes a batch of ``BATCH`` sources, so the children's transitions and invocations are
divided by the batch size, while the per-source work (HEADs, listing, CPU) is priced as
measured. A source the backfill finds stale then costs what an upload costs
(`thumbflow cost`), under STANDARD or EXPRESS as the thumbnail workflow is deployed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from . import catalogue, cost
from .local import LocalCloud
from .local.cloud import repo_root
from .runner import collect_uploads

BATCH = 500  # the definition's ItemBatcher.MaxItemsPerBatch


def _batch_size(cloud: LocalCloud) -> int:
    states = cloud.deployed.definitions.get("BackfillWorkflow", {}).get("States", {})
    batcher = (states.get("Check every source") or {}).get("ItemBatcher") or {}
    return int(batcher.get("MaxItemsPerBatch", BATCH))


def _child_states(cloud: LocalCloud) -> int:
    """States a batch's child execution enters when every source of the batch is current."""
    states = cloud.deployed.definitions.get("BackfillWorkflow", {}).get("States", {})
    processor = (states.get("Check every source") or {}).get("ItemProcessor") or {}
    return len(processor.get("States") or {})


def measure(cloud: LocalCloud, prices: Mapping[str, Any]) -> dict[str, Any]:
    """Run one backfill over the cloud's sources and price it per million sources."""
    requests_before = len(cloud.wire.snapshot())
    invocations_before = len(cloud.lambdas.invocations)
    result = catalogue.backfill(cloud, None)
    sources = max(1, result["sources"])
    batch = _batch_size(cloud)
    parent = cost.transitions(cloud.history(result["execution"]))
    checks = [i for i in cloud.lambdas.invocations[invocations_before:]
              if i.function == "BackfillFunction" and i.cpu_seconds > 0]
    heads = sum(1 for r in cloud.wire.snapshot()[requests_before:]
                if r.caller == "BackfillFunction" and r.service == "s3"
                and r.operation not in cost._FREE_S3 and not r.operation.startswith(cost._TIER1_PREFIXES))
    million = 1_000_000
    batches = million / batch
    sf, lam, s3 = prices["stepfunctions"], prices["lambda"], prices["s3"]
    # Per source, as measured: the GET/HEAD requests, and the check's CPU at BackfillFunction's
    # share of a vCPU; while requests are in flight (PARALLEL at a time, ~15 ms each on S3) the
    # function waits, billed too. Per batch: the child's transitions and two Lambda requests.
    memory_gb = (checks[0].memory_mb if checks else 512) / 1024
    cpu_per_source = sum(i.cpu_seconds for i in checks) / sources * max(1.0, 1769 / (memory_gb * 1024))
    wait_per_source = heads / sources * 0.015 / 16
    lines = {
        "Step Functions state transitions": (parent + batches * (_child_states(cloud) + 1))
        * sf["standard_per_state_transition"],
        "Lambda requests": batches * 2 * lam["per_request"],
        "Lambda duration (arm64)": million * (cpu_per_source + wait_per_source) * memory_gb
        * lam["arm64_per_gb_second"],
        "S3 LIST requests (1,000 keys a page)": million / 1000 * s3["tier1_per_request"],
        "S3 GET/HEAD requests": heads / sources * million * s3["tier2_per_request"],
    }
    return {"sources": result["sources"], "current": result["current"], "rendered": result["rendered"],
            "batch": batch, "s3_get_head_per_source": heads / sources,
            "cpu_ms_per_source": cpu_per_source * 1000, "lines": lines, "total": sum(lines.values())}


def report(measured: Mapping[str, Any]) -> str:
    rows = ["| item | $ per million sources |", "|---|---:|"]
    rows += [f"| {item} | {value:.2f} |" for item, value in measured["lines"].items()]
    rows.append(f"| **total, every source current** | **{measured['total']:.2f}** |")
    return (f"Backfill over {measured['sources']} sources ({measured['current']} current, "
            f"{measured['rendered']} rendered), priced for batches of {measured['batch']}:\n\n"
            + "\n".join(rows)
            + "\n\nEach source found stale costs, on top, what an upload costs (`thumbflow cost`).")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m thumbflow.backfillcost",
        description="dollars per million sources for a backfill that finds them current, measured "
                    "in local mode (always on empty buckets)")
    parser.add_argument("paths", nargs="*", help="images to upload first (default: the bundled samples)")
    parser.add_argument("--json", action="store_true", help="print the measurement as JSON")
    parser.add_argument("--prices", type=Path, help="price table (default: thumbflow/prices.json)")
    args = parser.parse_args(argv)
    paths = args.paths or [str(repo_root() / "samples")]
    prices = cost.load_prices(args.prices)
    log = Path(".thumbflow/lambda.log")
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as sink, LocalCloud(log=sink) as cloud:
        for path, key in collect_uploads(paths):
            before = len(cloud.started)
            cloud.upload(key, path.read_bytes())
            for arn, _ in cloud.started[before:]:
                cloud.wait(arn)
        measured = measure(cloud, prices)
    print(json.dumps(measured) if args.json else report(measured))
    return 0


if __name__ == "__main__":
    sys.exit(main())
