"""Placeholders end to end in local mode: manifest, `run --json` rows, stored metadata, contact sheet."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from tests import images, placeholders
from thumbflow.local.cloud import LocalCloud
from thumbflow.report import contact_sheet
from thumbflow.runner import SourceResult, run

COLOURS = {"sunset.jpg": (214, 120, 60), "sea.png": (40, 90, 170), "moss.webp": (70, 120, 50)}


def tinted(colour: tuple[int, int, int], seed: int) -> Image.Image:
    """A photo-like image pulled strongly toward ``colour``, so each source has its own mean."""
    photo = images.photo(480, 320, seed=seed, grain=0.1)
    return Image.blend(photo, Image.new("RGB", photo.size, colour), 0.6)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ph") / "shots"
    folder.mkdir()
    for seed, (name, colour) in enumerate(COLOURS.items(), 1):
        tinted(colour, seed).save(folder / name)
    (folder / "portrait.jpg").write_bytes(images.oriented_jpeg(6, 320, 480))  # stored 480x320, shown 320x480
    (folder / "notes.jpg").write_bytes(images.TEXT)
    return folder


@pytest.fixture(scope="module")
def ran(
    cloud: LocalCloud, uploads: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[list[SourceResult], Path]:
    out = tmp_path_factory.mktemp("ph-out")
    results = run(cloud, [uploads], out)
    contact_sheet(results, out)
    return results, out


def test_every_success_row_carries_a_valid_placeholder(
    ran: tuple[list[SourceResult], Path], uploads: Path
) -> None:
    results, _ = ran
    rows = {r.key.rsplit("/", 1)[-1]: json.loads(json.dumps(r.to_dict())) for r in results}
    assert rows["notes.jpg"]["status"] == "FAILED" and rows["notes.jpg"]["placeholder"] is None
    for name, row in rows.items():
        if name == "notes.jpg":
            continue
        assert row["status"] == "SUCCEEDED", row
        hint = row["placeholder"]
        assert set(hint) == {"blurhash", "color"}
        assert re.fullmatch(r"#[0-9a-f]{6}", hint["color"])
        expected = (3, 4) if name == "portrait.jpg" else (4, 3)  # more components along the longer side
        assert placeholders.components(hint["blurhash"]) == expected
        placeholders.decode(hint["blurhash"], 8, 8)  # decodes
        assert placeholders.average(hint["blurhash"]) == placeholders.hex_rgb(hint["color"])
        shown = Image.open(uploads / name)
        mean = placeholders.linear_mean(shown)
        got = placeholders.hex_rgb(hint["color"])
        assert all(abs(a - b) <= 4 for a, b in zip(got, mean, strict=True)), (name, got, mean)


def test_every_thumbnail_in_the_manifest_carries_the_same_placeholder(
    cloud: LocalCloud, ran: tuple[list[SourceResult], Path]
) -> None:
    results, _ = ran
    for result in results:
        if result.status != "SUCCEEDED":
            continue
        manifest = json.loads(cloud.describe(result.execution)["output"])["thumbnails"]
        assert len(manifest) == 4
        assert {json.dumps(t["placeholder"], sort_keys=True) for t in manifest} == {
            json.dumps(result.placeholder, sort_keys=True)}
        s3 = cloud.client("s3")
        for thumb in manifest:
            meta = s3.head_object(Bucket=cloud.deployed.thumbnail_bucket, Key=thumb["key"])["Metadata"]
            assert {"blurhash": meta["blurhash"], "color": meta["color"]} == result.placeholder


def test_the_manifest_and_the_thumbnails_ready_event_carry_the_placeholder(
    cloud: LocalCloud, ran: tuple[list[SourceResult], Path]
) -> None:
    results, _ = ran
    done = [r for r in results if r.status == "SUCCEEDED"]
    assert done
    for result in done:
        manifest = json.loads(cloud.describe(result.execution)["output"])
        assert manifest["placeholder"] == result.placeholder
        ready = [e for e in cloud.events() if e["detail-type"] == "Thumbnails Ready"
                 and e["detail"]["execution"] == result.execution]
        assert len(ready) == 1, result.key
        hint = ready[0]["detail"]["placeholder"]
        assert hint == result.placeholder
        assert all(t["placeholder"] == hint for t in ready[0]["detail"]["thumbnails"])
        assert any(e.get("detail-type") == "Thumbnails Ready" and e["detail"].get("placeholder") == hint
                   for e in result.events)  # what the run row says was published for it
    failed = next(r for r in results if r.status == "FAILED")
    assert all("placeholder" not in e["detail"] for e in cloud.events()
               if e["detail"].get("execution") == failed.execution)


def test_a_rerun_reuses_the_thumbnails_and_reads_the_placeholder_back(
    cloud: LocalCloud, ran: tuple[list[SourceResult], Path]
) -> None:
    results, _ = ran
    first = next(r for r in results if r.key.endswith("sunset.jpg"))
    arn = cloud.execute({"bucket": cloud.deployed.source_bucket, "key": first.key})
    again = json.loads(cloud.wait(arn)["output"])
    assert all(t["reused"] for t in again["thumbnails"])
    assert all(t["placeholder"] == first.placeholder for t in again["thumbnails"])
    assert again["placeholder"] == first.placeholder


def test_the_contact_sheet_shows_the_colour_and_the_blurhash_drawn(
    ran: tuple[list[SourceResult], Path]
) -> None:
    results, out = ran
    page = (out / "index.html").read_text(encoding="utf-8")
    assert page.count("class='swatch'") == sum(1 for r in results if r.placeholder)
    for result in results:
        if result.placeholder:
            assert f"background:{result.placeholder['color']}" in page
    # One file: every drawn BlurHash is an inline PNG whose colours follow the placeholder's.
    urls = re.findall(r"url\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", page)
    assert len(urls) == sum(1 for r in results if r.placeholder)
    ordered = [r for r in results if r.placeholder]
    for encoded, result in zip(urls, ordered, strict=True):
        drawn = Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")
        assert max(drawn.size) == 16
        mean = placeholders.linear_mean(drawn)
        assert result.placeholder is not None
        colour = placeholders.hex_rgb(result.placeholder["color"])
        assert all(abs(a - b) <= 12 for a, b in zip(mean, colour, strict=True))
