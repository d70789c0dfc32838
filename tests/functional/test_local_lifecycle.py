"""A local cloud's life in this process: what it leaves on stdout, and what it leaves behind.

Handler output goes where the cloud was told (the CLI's lambda.log), never to this
process's stdout, which the CLI keeps for its own JSON. When the cloud stops, every
attribute of moto and botocore it replaced holds its original again and the process
environment is what it was (local mode sets no environment variable of its own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, Lines, output
from thumbflow.local.cloud import LocalCloud
from thumbflow.local.patches import _MISSING


def upload_and_wait(cloud: LocalCloud, key: str, body: bytes) -> dict[str, object]:
    before = len(cloud.started)
    cloud.upload(key, body)
    (arn,) = [a for a, ev in cloud.started[before:] if ev["detail"]["object"]["key"] == key]
    return cloud.wait(arn)


def test_handler_output_never_reaches_this_process_stdout(capfd: pytest.CaptureFixture[str]) -> None:
    """With a log given, the workers' output (Powertools lines, metrics, warnings) goes there only."""
    lines = Lines()
    with LocalCloud(time_scale=TIME_SCALE, log=lines) as cloud:
        desc = upload_and_wait(cloud, "quiet/a.jpg", images.jpeg(200, 150))
    captured = capfd.readouterr()
    assert output(desc)["outcome"] == "thumbnails"
    assert any('"message"' in line for line in lines.lines)
    assert "function_request_id" not in captured.out + captured.err


def test_stop_leaves_nothing_patched_and_the_environment_as_it_was() -> None:
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.botocore_stubber import BotocoreStubber
    from moto.events.models import Rule
    from moto.s3 import notifications
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    environ = dict(os.environ)
    cloud = LocalCloud(time_scale=TIME_SCALE, log=Lines())
    cloud.start()
    try:
        entries = list(cloud.patches.entries)
        assert {"wire.botocore-stubber", "lambda.invoke", "events.rule-targets", "events.s3-to-eventbridge",
                "interpreter.retry-sleep"} <= {p.name for p in entries}
        originals = {p.name: p.original for p in entries}
        assert all(vars(p.owner)[p.attribute] is p.replacement for p in entries)
    finally:
        cloud.stop()
    for patch in entries:
        if originals[patch.name] is _MISSING:  # was only inherited: the class's own entry is gone again
            assert patch.attribute not in vars(patch.owner), patch.name
            continue
        restored = vars(patch.owner).get(patch.attribute)
        assert restored is originals[patch.name] and restored is not patch.replacement, patch.name
    assert "LocalCloud" not in repr(BotocoreStubber.__call__)
    assert LambdaSimpleBackend.invoke.__module__ == "moto.awslambda_simple.models"
    assert Rule.send_to_targets.__module__ == "moto.events.models"
    assert notifications._send_event_bridge_message.__module__ == "moto.s3.notifications"
    assert retrier_decl.time is __import__("time")
    assert dict(os.environ) == environ


def test_the_distribution_exists_when_first_asked_under_the_id_handed_out_at_deploy() -> None:
    """Nothing is served through the local distribution, so it is created at the first CloudFront
    request; its id is the one the purge workflow was given, and the same for the
    same stack in every cloud (a deployed distribution keeps its id)."""
    ids = []
    for _ in range(2):
        with LocalCloud(time_scale=TIME_SCALE, log=Lines()) as cloud:
            handed_out = cloud.deployed.distribution_id
            assert not any(r.service == "cloudfront" for r in cloud.wire.snapshot())
            assert handed_out in json.dumps(cloud.deployed.definitions["PurgeWorkflow"])
            made = cloud.client("cloudfront").get_distribution(Id=handed_out)["Distribution"]
            assert made["Id"] == handed_out
            assert made["DomainName"] == cloud.resolver.get_att("ThumbnailDistribution", "DomainName")
            assert cloud.wire.hook_errors == []
            ids.append(handed_out)
    assert ids[0] == ids[1]


PROGRAM_RUN = """
import json, os, sys
from pathlib import Path
from thumbflow.local.cloud import LocalCloud
from thumbflow.local import interpreter
folder = Path(sys.argv[1])
with open(os.devnull, "w") as sink, LocalCloud(time_scale=0.001, log=sink, program_cache=folder) as cloud:
    arn = cloud.execute({"bucket": cloud.deployed.source_bucket, "key": "missing.jpg"})
    desc = cloud.wait(arn)
    cache = interpreter.program_cache(folder)
    print(json.dumps({"status": desc["status"], "error": desc.get("error"), "built": cache.built,
                      "loaded": cache.loaded}))
"""


def test_a_program_read_back_from_the_cache_runs_as_the_parsed_one(tmp_path: Path) -> None:
    """Two processes: the first parses the definitions and keeps their programs, the second reads
    them back and runs the same execution to the same end."""
    runs = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", PROGRAM_RUN, str(tmp_path)], capture_output=True,
                              text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    first, second = runs
    assert first["built"] >= 1 and first["loaded"] == 0
    assert second["built"] == 0 and second["loaded"] == first["built"]
    ends = {(run["status"], run["error"]) for run in runs}
    assert ends == {("FAILED", "ImageRejected")}
    assert len(list(tmp_path.glob("*.pickle"))) == first["built"]
