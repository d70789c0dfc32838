"""The one-time import of name claims kept as S3 objects (releases before the claims table).

Run against the deployed stack's bucket and table in local mode: after the import, the stem
an existing source owns is refused to a second source with the same stem, as before the upgrade.
"""

from __future__ import annotations

import json

from tests import images
from tests.functional.conftest import output, run_upload
from tests.functional.drills import claims, put_claims
from thumbflow.claimsimport import import_claims
from thumbflow.local.cloud import LocalCloud


def legacy(cloud: LocalCloud, stem: str, body: bytes) -> None:
    cloud.client("s3").put_object(Bucket=cloud.deployed.thumbnail_bucket, Key=stem + ".owner.json",
                                  Body=body, ContentType="application/json")


def test_legacy_claims_are_imported_once_and_keep_their_owners(cloud: LocalCloud) -> None:
    s3, bucket = cloud.client("s3"), cloud.deployed.thumbnail_bucket
    # An upgraded stack: cat.jpg's thumbnails and its claim object exist, the table knows nothing.
    cloud.client("s3").put_object(Bucket=cloud.deployed.source_bucket, Key="legacy/cat.jpg",
                                  Body=images.jpeg(64, 48))
    legacy(cloud, "legacy/cat", json.dumps({"source": "legacy/cat.jpg"}).encode())
    legacy(cloud, "legacy/dog", json.dumps({"source": "legacy/dog.png"}).encode())
    legacy(cloud, "legacy/broken", b"not json")
    put_claims(cloud, {"legacy/dog": "legacy/dog.webp"})  # claimed since the upgrade: it stays
    counts = import_claims(s3, cloud.client("dynamodb"), bucket, cloud.deployed.claims_table, delete=True)
    assert counts == {"imported": 1, "already-claimed": 1, "unreadable": 1, "deleted": 2}
    assert claims(cloud, "legacy/") == {"legacy/cat": "legacy/cat.jpg", "legacy/dog": "legacy/dog.webp"}
    left = [k for k in cloud.objects(bucket) if k.startswith("legacy/")]
    assert left == ["legacy/broken.owner.json"]  # unreadable: left for a person to look at
    again = import_claims(s3, cloud.client("dynamodb"), bucket, cloud.deployed.claims_table)
    assert again["imported"] == 0  # a second run changes nothing
    # The imported claim holds: a second source with the stem is refused by name.
    _, desc = run_upload(cloud, "legacy/cat.png", images.png_alpha(64, 48))
    assert desc["status"] == "FAILED" and desc["cause"].startswith("name-collision"), output(desc)
