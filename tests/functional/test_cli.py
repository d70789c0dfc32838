"""The `thumbflow` CLI as an operator runs it: the run --json contract, execute, the contact sheet."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests import images
from tests.functional.conftest import EVENTS, ROOT
from thumbflow.cli import main

CONTRACT = {"source": str, "key": str, "status": str, "execution": str, "thumbnails": list,
            "alerts": list}


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled samples plus a bad file and an awkward name, in a folder called samples."""
    root = tmp_path_factory.mktemp("ws")
    folder = root / "samples"
    shutil.copytree(ROOT / "samples", folder)
    (folder / "not-really.jpg").write_bytes(images.TEXT)
    shutil.copy(folder / "landscape.jpg", folder / "my holiday photo (1).jpg")
    return root


@pytest.fixture(scope="module")
def run_json(workspace: Path) -> list[dict[str, object]]:
    """`thumbflow run samples --json` in a real subprocess, as a user types it."""
    proc = subprocess.run(
        [sys.executable, "-m", "thumbflow.cli", "run", "samples", "--out", "out", "--json",
         "--state", "state"],
        cwd=workspace, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_run_json_follows_the_contract(run_json: list[dict[str, object]], workspace: Path) -> None:
    by_key = {r["key"]: r for r in run_json}
    assert set(by_key) == {"samples/landscape.jpg", "samples/logo-alpha.png",
                           "samples/portrait-exif-rotated.jpg", "samples/not-really.jpg",
                           "samples/my holiday photo (1).jpg"}
    for record in run_json:
        for field, kind in CONTRACT.items():
            assert isinstance(record[field], kind), field
        assert record["status"] in ("SUCCEEDED", "FAILED")
        assert record["execution"].startswith("arn:aws:states:")
        for thumb in record["thumbnails"]:
            assert set(thumb) >= {"key", "width", "height", "bytes", "format", "tags"}
            local = workspace / "out" / thumb["key"]
            assert local.is_file() and local.stat().st_size == thumb["bytes"]
    good = by_key["samples/landscape.jpg"]
    assert good["status"] == "SUCCEEDED" and good["error"] is None and good["alerts"] == []
    assert len(good["thumbnails"]) == 4
    portrait = by_key["samples/portrait-exif-rotated.jpg"]
    large = max(portrait["thumbnails"], key=lambda t: t["width"] * t["height"])
    assert large["height"] > large["width"]
    bad = by_key["samples/not-really.jpg"]
    assert bad["status"] == "FAILED" and bad["error"] == "ImageRejected"
    assert bad["cause"].startswith("text") and bad["thumbnails"] == []
    assert len(bad["alerts"]) == 1 and json.loads(bad["alerts"][0])["error"] == "ImageRejected"


def test_contact_sheet_shows_every_source(run_json: list[dict[str, object]], workspace: Path) -> None:
    page = (workspace / "out" / "index.html").read_text(encoding="utf-8")
    for record in run_json:
        assert str(record["key"]).replace("&", "&amp;") in page
    assert "ImageRejected" in page
    assert page.count("<img ") == sum(len(r["thumbnails"]) for r in run_json)


def test_table_output(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["run", str(workspace / "samples" / "landscape.jpg"), "--out",
               str(workspace / "out2"), "--state", str(workspace / "state2"), "--fresh"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "landscape.jpg" in out and "SUCCEEDED" in out and "1 of 1 sources succeeded" in out
    assert "{" not in out, "handler logs must not reach stdout"


@pytest.mark.parametrize(
    ("event", "status", "error", "outcome"),
    [
        ("manual.json", "SUCCEEDED", None, "thumbnails"),
        ("object-created.json", "SUCCEEDED", None, "thumbnails"),
        ("object-created-encoded-key.json", "SUCCEEDED", None, "thumbnails"),
        ("bad/stale-etag.json", "SUCCEEDED", None, "superseded"),
        ("bad/missing-object.json", "FAILED", "ImageRejected", None),
        ("bad/wrong-bucket.json", "FAILED", "ImageRejected", None),
        ("bad/not-an-upload.json", "FAILED", "ImageRejected", None),
    ],
)
def test_execute_events(run_json: list[dict[str, object]], workspace: Path,
                        capsys: pytest.CaptureFixture[str], event: str, status: str,
                        error: str | None, outcome: str | None) -> None:
    """`thumbflow execute` on the sources `run` left in the state folder: the console's New execution."""
    rc = main(["execute", "--input", str(EVENTS / event), "--state", str(workspace / "state"),
               "--json"])
    assert rc == 0
    result = json.loads(capsys.readouterr().out)
    assert result["status"] == status, result["cause"]
    assert result["error"] == error
    if outcome:
        assert result["output"]["outcome"] == outcome
    else:
        assert len(result["alerts"]) == 1
    states = [h.get("stateEnteredEventDetails", {}).get("name") for h in result["history"]]
    assert "Configure" in states


def test_execute_prints_history(run_json: list[dict[str, object]], workspace: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    main(["execute", "--input", str(EVENTS / "manual.json"), "--state", str(workspace / "state")])
    out = capsys.readouterr().out
    assert "status    SUCCEEDED" in out
    assert "TaskStateEntered" in out and "Validate" in out and "ExecutionSucceeded" in out


def test_the_parsers_own_defaults_are_the_modules_and_importing_the_cli_loads_no_sdk() -> None:
    """The CLI names a few defaults itself so that importing it stays light (its fork server starts
    before the SDK and moto are imported): they must be the modules' own."""
    from thumbflow import catalogue, cli, cost
    from thumbflow.local.cloud import repo_root

    assert cli.BUCKETS == catalogue.BUCKETS
    assert cli.IMAGES_PER_MONTH == cost.DEFAULT_IMAGES_PER_MONTH
    assert (cost.PRICES_PATH.name, repo_root()) == (cli.PRICES_FILE, cli.REPO)
    probe = ("import sys, thumbflow.cli; "
             "print(sorted(m for m in ('boto3', 'botocore', 'moto') if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
