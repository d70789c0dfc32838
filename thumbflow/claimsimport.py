"""Bring name claims kept as S3 objects into the claims table: a one-time upgrade step.

Releases before the claims table kept each stem's claim as ``<stem>.owner.json`` in
ThumbnailBucket (``{"source": "<source key>"}``). Deployed over such a release, the table
starts empty and every stem would look unclaimed, so a second source with the same stem could
take over names an existing source's thumbnails use. Run this once after the upgrade:

    python -m thumbflow.claimsimport --bucket <ThumbnailBucket> --table <NameClaimsTable> [--delete]

Each claim is written only if the table has none for its stem (a claim made since the
upgrade wins), so running it twice, or while uploads go on, is safe. ``--delete`` then removes
each imported object, only while it is unchanged (If-Match). It uses the caller's AWS
credentials and needs s3:ListBucket, s3:GetObject (and s3:DeleteObject with ``--delete``) on
the bucket and dynamodb:PutItem on the table.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

LEGACY_SUFFIX = ".owner.json"


def _owner(body: bytes) -> str | None:
    try:
        owner = json.loads(body).get("source")
    except (ValueError, AttributeError):
        return None
    return owner if isinstance(owner, str) and owner else None


def import_claims(s3: Any, dynamodb: Any, bucket: str, table: str, *, delete: bool = False) -> dict[str, int]:
    """Copy every legacy claim object into the table; counts of what happened to each."""
    counts = {"imported": 0, "already-claimed": 0, "unreadable": 0, "deleted": 0}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            key = str(obj["Key"])
            if not key.endswith(LEGACY_SUFFIX):
                continue
            got = s3.get_object(Bucket=bucket, Key=key)
            owner = _owner(got["Body"].read())
            if owner is None:
                counts["unreadable"] += 1
                continue
            stem = key[: -len(LEGACY_SUFFIX)]
            try:
                dynamodb.put_item(TableName=table, Item={"stem": {"S": stem}, "source": {"S": owner}},
                                  ConditionExpression="attribute_not_exists(stem)")
                counts["imported"] += 1
            except dynamodb.exceptions.ConditionalCheckFailedException:
                counts["already-claimed"] += 1
            if delete:
                s3.delete_object(Bucket=bucket, Key=key, IfMatch=got["ETag"])
                counts["deleted"] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    import boto3

    summary = (__doc__ or "").split("\n")[0]
    parser = argparse.ArgumentParser(prog="python -m thumbflow.claimsimport", description=summary)
    parser.add_argument("--bucket", required=True, help="the stack's ThumbnailBucket")
    parser.add_argument("--table", required=True, help="the stack's NameClaimsTable")
    parser.add_argument("--delete", action="store_true", help="delete each legacy object once imported")
    args = parser.parse_args(argv)
    counts = import_claims(boto3.client("s3"), boto3.client("dynamodb"), args.bucket, args.table,
                           delete=args.delete)
    sys.stdout.write(json.dumps(counts) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
