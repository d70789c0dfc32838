"""What an alert tells an operator to run is safe to run, whatever key the uploader chose.

Keys are picked by whoever uploads. An alert that asked the operator to paste the input
JSON into a shell command would run whatever the key smuggles in. Alerts give the
re-run as a file (``rerunRequest``) and a command line that never contains user data;
this test follows the instructions literally, in a real shell, against a fake ``aws``
that records what it was asked to do.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.functional.conftest import run_upload
from tests.reliability import record
from thumbflow.local.cloud import LocalCloud

HOSTILE_KEYS = [
    "photos/x'$(touch pwned)'.jpg",
    'photos/x";touch pwned;".jpg',
    "photos/`touch pwned`.jpg",
    "photos/$(touch${IFS}pwned).jpg",
    "photos/a\nrm -rf pwned-dir\n.jpg",
    "photos/x' && touch pwned && echo '.jpg",
    "photos/\u202egpj.txt",  # right-to-left override: the key reads differently on screen
]

FAKE_AWS = """#!/bin/sh
# Records its arguments and the file it was given, like the real CLI would read it.
printf '%s\\n' "$@" > "$RECORD/argv"
for arg in "$@"; do
  case "$arg" in file://*) cp "${arg#file://}" "$RECORD/request.json" ;; esac
done
"""


def command_in(how_to_rerun: str) -> str:
    """The shell command the alert says to run: everything after its last 'run: '."""
    match = re.search(r"run: (.+)$", how_to_rerun)
    assert match, how_to_rerun
    return match.group(1).strip()


@pytest.mark.parametrize("key", HOSTILE_KEYS, ids=range(len(HOSTILE_KEYS)))
def test_following_the_alert_runs_nothing_but_the_rerun(
    cloud: LocalCloud, tmp_path: Path, key: str
) -> None:
    arn, desc = run_upload(cloud, key, b"this is not an image")
    assert desc["status"] == "FAILED" and desc["error"] == "ImageRejected"
    (alert,) = [a.body for a in cloud.alerts() if a.body.get("execution") == arn]
    assert alert["key"] == key and alert["rerunInput"] == {"bucket": cloud.deployed.source_bucket, "key": key}

    command = command_in(alert["howToRerun"])
    # The command holds no user data at all: a fixed string of plain words.
    assert key not in command and shlex.split(command) == command.split()
    assert re.fullmatch(r"[a-z0-9 :/._-]+", command), command

    work, record_dir, bin_dir = tmp_path / "work", tmp_path / "record", tmp_path / "bin"
    for folder in (work, record_dir, bin_dir):
        folder.mkdir()
    (bin_dir / "aws").write_text(FAKE_AWS)
    (bin_dir / "aws").chmod(0o755)
    # "save the rerunRequest object of this message as rerun.json"
    (work / "rerun.json").write_text(json.dumps(alert["rerunRequest"]))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "RECORD": str(record_dir)}
    subprocess.run(["/bin/sh", "-c", command], cwd=work, env=env, check=True, timeout=30)

    assert sorted(p.name for p in work.iterdir()) == ["rerun.json"]  # nothing else was created
    assert (record_dir / "argv").read_text().split() == [
        "stepfunctions", "start-execution", "--cli-input-json", "file://rerun.json"]
    request = json.loads((record_dir / "request.json").read_text())
    assert request["stateMachineArn"] == cloud.deployed.state_machine_arn
    rerun_input = json.loads(request["input"])
    assert rerun_input == {"bucket": cloud.deployed.source_bucket, "key": key}
    # And it is the re-run: the same input, the same named outcome.
    again = cloud.wait(cloud.execute(rerun_input))
    assert (again["status"], again["error"]) == ("FAILED", "ImageRejected")
    record("Alerts", f"following the alert for hostile key #{HOSTILE_KEYS.index(key)}",
           "only `aws stepfunctions start-execution --cli-input-json file://rerun.json` runs",
           f"ran {' '.join((record_dir / 'argv').read_text().split())}; files in the folder after: "
           f"{', '.join(sorted(p.name for p in work.iterdir()))}")
