"""The catalogue's whole life in local mode: deletes purge, apps hear every outcome, names never
collide, and a size added to Configure reaches existing images through the backfill."""

from __future__ import annotations

import json
from typing import Any

from tests import images
from tests.functional.conftest import output, run_upload
from tests.functional.drills import claims
from tests.reliability import record
from thumbflow import catalogue
from thumbflow.local import LocalCloud

SIZES = {"128x128", "256x256", "512x512", "1024x1024"}


def stored(cloud: LocalCloud, stem: str) -> set[str]:
    """Thumbnail keys of one stem."""
    return {k for k in cloud.objects(cloud.deployed.thumbnail_bucket)
            if k.startswith(stem + "_") and "_" not in k[len(stem) + 1:]}


def events_of(cloud: LocalCloud, key: str, detail_type: str) -> list[dict[str, Any]]:
    return [e for e in catalogue.events_about(cloud, key) if e["detail-type"] == detail_type]


def on_demand(cloud: LocalCloud, path: str) -> int:
    """GET a thumbnail URL through the real OnDemandFunction, as CloudFront would on a miss."""
    event = {"version": "2.0", "rawPath": path, "rawQueryString": "", "headers": {},
             "requestContext": {"http": {"method": "GET", "path": path}}}
    body, error = cloud.invoke("OnDemandFunction", event)
    assert error is None, body
    return int(json.loads(body)["statusCode"])


# -- events --------------------------------------------------------------------------------------


def test_every_outcome_is_an_event_and_a_success_lists_its_thumbnails(cloud: LocalCloud) -> None:
    arn, desc = run_upload(cloud, "events/ok.jpg", images.jpeg(640, 480))
    (ready,) = events_of(cloud, "events/ok.jpg", "Thumbnails Ready")
    assert ready["source"] == "thumbflow" and ready["detail"]["version"] == "1"
    assert ready["detail"]["execution"] == arn
    assert {t["size"] for t in ready["detail"]["thumbnails"]} == SIZES
    assert all(t["path"] == "/" + t["key"] for t in ready["detail"]["thumbnails"])
    assert ready["detail"]["source"]["etag"] == output(desc)["source"]["etag"]
    bad_arn, _ = run_upload(cloud, "events/bad.jpg", b"not an image at all")
    (rejected,) = events_of(cloud, "events/bad.jpg", "Image Rejected")
    assert rejected["detail"]["reason"] == "text" and rejected["detail"]["execution"] == bad_arn
    record("Events", "success and rejection", "Thumbnails Ready with 4 thumbnails; Image Rejected (text)",
           f"{ready['detail-type']} with {len(ready['detail']['thumbnails'])}; "
           f"{rejected['detail-type']} ({rejected['detail']['reason']})")


# -- names -------------------------------------------------------------------------------------


def test_same_stem_sources_never_share_a_thumbnail(cloud: LocalCloud) -> None:
    first, second = images.jpeg(400, 300), images.png_alpha(300, 300)
    _, d1 = run_upload(cloud, "names/cat.jpg", first)
    arn2, d2 = run_upload(cloud, "names/cat.png", second)
    assert d1["status"] == "SUCCEEDED"
    assert (d2["status"], d2["error"]) == ("FAILED", "ImageRejected")
    assert d2["cause"].startswith("name-collision:") and "names/cat.jpg" in d2["cause"]
    etag = output(d1)["source"]["etag"]
    s3 = cloud.client("s3")
    for key in stored(cloud, "names/cat"):  # every stored thumbnail is the first source's
        head = s3.head_object(Bucket=cloud.deployed.thumbnail_bucket, Key=key)
        assert head["Metadata"]["source-etag"] == etag
    assert events_of(cloud, "names/cat.png", "Image Rejected")[0]["detail"]["reason"] == "name-collision"
    # Once the owner is deleted (its thumbnails purged), the other source can take the names.
    (row,) = catalogue.delete(cloud, ["names/cat.jpg"])
    assert row["status"] == "SUCCEEDED"
    again = cloud.wait(cloud.execute(json.loads(cloud.describe(arn2)["input"])))
    assert again["status"] == "SUCCEEDED", again.get("cause")
    assert {t["format"] for t in output(again)["thumbnails"]} == {"webp"}
    record("Names", "cat.jpg then cat.png in one folder",
           "cat.png refused (name-collision); after cat.jpg is deleted, cat.png renders",
           f"{d2['error']} ({d2['cause'].split(':')[0]}); re-run after delete: {again['status']}")


# -- deletes ------------------------------------------------------------------------------------


def test_delete_purges_exactly_its_thumbnails(cloud: LocalCloud) -> None:
    run_upload(cloud, "purge/a.jpg", images.jpeg(800, 600))
    run_upload(cloud, "purge/ab.jpg", images.jpeg(800, 600))  # a stem that starts like a's
    assert on_demand(cloud, "/purge/a_200x200.jpg") == 200  # an on-demand size, rendered
    mine = stored(cloud, "purge/a")
    assert mine == {f"purge/a_{s}.jpg" for s in SIZES | {"200x200"}}
    others = stored(cloud, "purge/ab")
    (row,) = catalogue.delete(cloud, ["purge/a.jpg"])
    assert row["status"] == "SUCCEEDED" and row["outcome"] == "purged"
    assert set(row["purged"]) == mine
    assert stored(cloud, "purge/a") == set()
    assert stored(cloud, "purge/ab") == others
    assert "purge/a" not in claims(cloud, "purge/") and claims(cloud, "purge/")["purge/ab"] == "purge/ab.jpg"
    (purged,) = [e for e in row["events"] if e["detail-type"] == "Thumbnails Purged"]
    assert set(purged["detail"]["purged"]) == mine
    # Again: nothing left to delete, nothing else touched.
    (again,) = catalogue.delete(cloud, ["purge/a.jpg"])
    assert again["status"] == "SUCCEEDED" and again["purged"] == []
    record("Deletes", "delete a source with workflow and on-demand thumbnails",
           "exactly its 5 thumbnails purged, a similar stem's kept, Thumbnails Purged; "
           "a second delete purges 0",
           f"{len(row['purged'])} purged, {len(others)} of the other kept, {purged['detail-type']}; "
           f"second: {len(again['purged'])}")


def test_reupload_racing_the_delete_keeps_its_thumbnails(cloud: LocalCloud) -> None:
    key = "purge/race.jpg"
    run_upload(cloud, key, images.jpeg(640, 480))
    newer = images.jpeg(500, 500)
    arns: list[str] = []

    def reupload_first(event: dict[str, Any]) -> None:
        before = len(cloud.started)
        cloud.upload(key, newer)
        arns.extend(a for a, e in cloud.started[before:] if e["detail"]["object"]["key"] == key)
        cloud.wait(arns[-1])  # the newer upload's thumbnails exist before the purge looks

    with cloud.before_invoke("PurgeFunction", reupload_first):
        (row,) = catalogue.delete(cloud, [key])
    assert row["status"] == "SUCCEEDED"
    new_etag = output(cloud.describe(arns[-1]))["source"]["etag"]
    s3 = cloud.client("s3")
    left = stored(cloud, "purge/race")
    assert left == {f"purge/race_{s}.jpg" for s in SIZES}
    for thumb in left:
        meta = s3.head_object(Bucket=cloud.deployed.thumbnail_bucket, Key=thumb)["Metadata"]
        assert meta["source-etag"] == new_etag
    assert set(row["kept"]) == left
    record("Deletes", "re-upload while the purge runs", "the newer upload's thumbnails kept",
           f"{len(row['kept'])} kept, {len(row['purged'])} purged")
