"""`thumbflow run`: upload images, let the rule start executions, collect what happened.

The result of each source is the row other tools read (`thumbflow run --json`: one JSON object
per source with status, error, cause, execution, thumbnails and alerts, plus the
events published for it and its placeholder: the BlurHash and colour the manifest's
thumbnails carry).
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .local.cloud import LocalCloud
from .outcomes import events_about


@dataclass
class SourceResult:
    """What became of one uploaded file."""

    source: str
    key: str
    status: str
    error: str | None
    cause: str | None
    execution: str
    thumbnails: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[str] = field(default_factory=list)
    outcome: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    placeholder: dict[str, str] | None = None  # {"blurhash", "color"}; None without thumbnails

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def collect_uploads(paths: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """Files to upload with their keys: a file by its name, a folder's files under its name."""
    found: list[tuple[Path, str]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            base = path.resolve()
            for item in sorted(base.rglob("*")):
                rel = item.relative_to(base)
                if item.is_file() and not any(part.startswith(".") for part in rel.parts):
                    found.append((item, f"{base.name}/{rel.as_posix()}"))
        elif path.is_file():
            found.append((path, path.name))
        else:
            raise FileNotFoundError(f"no such file or folder: {raw}")
    return found


def safe_local_path(root: Path, key: str) -> Path:
    """Where to write an object locally: keys may hold '..' or absolute-looking parts."""
    parts = [p for p in key.split("/") if p not in ("", ".", "..")]
    target = root.joinpath(*parts) if parts else root / "_"
    resolved = target.resolve()
    if not str(resolved).startswith(str(root.resolve())):
        raise ValueError(f"unsafe key {key!r}")
    return resolved


def result_of(cloud: LocalCloud, execution_arn: str, source: str, key: str,
              alerts_by_execution: dict[str, list[str]]) -> SourceResult:
    """Shape one finished execution into the contract's record."""
    desc = cloud.describe(execution_arn)
    output = json.loads(desc.get("output") or "null") or {}
    manifest = output.get("thumbnails", []) if isinstance(output, dict) else []
    thumbs = [{k: t.get(k) for k in ("key", "width", "height", "bytes", "format", "tags")} for t in manifest]
    return SourceResult(
        source=source,
        key=key,
        status=desc["status"],
        error=desc.get("error"),
        cause=desc.get("cause"),
        execution=execution_arn,
        thumbnails=thumbs,
        alerts=alerts_by_execution.get(execution_arn, []),
        outcome=output.get("outcome") if isinstance(output, dict) else None,
        events=events_about(cloud, key, execution_arn),
        placeholder=placeholder_of(manifest),
    )


def placeholder_of(manifest: Iterable[dict[str, Any]]) -> dict[str, str] | None:
    """The source's placeholder: every thumbnail of one render carries the same; the first that has one."""
    for thumb in manifest:
        found = thumb.get("placeholder")
        if isinstance(found, dict) and found.get("blurhash") and found.get("color"):
            return {"blurhash": str(found["blurhash"]), "color": str(found["color"])}
    return None


def alerts_by_execution(cloud: LocalCloud) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for alert in cloud.alerts():
        grouped.setdefault(str(alert.body.get("execution", "")), []).append(alert.message)
    return grouped


def run(
    cloud: LocalCloud,
    paths: Sequence[str | Path],
    out_dir: Path | None,
    progress: Callable[[int, int], None] | None = None,
    timeout: float = 600,
) -> list[SourceResult]:
    """Upload, wait for every execution the uploads started, download the thumbnails."""
    uploads = collect_uploads(paths)
    already = len(cloud.started)
    for path, key in uploads:
        content_type = mimetypes.guess_type(path.name)[0]
        cloud.upload(key, path.read_bytes(), content_type)
    started = cloud.started[already:]
    by_key: dict[str, str] = {}
    for arn, event in started:
        by_key[event["detail"]["object"]["key"]] = arn
    total = len(uploads)
    for done, (_, key) in enumerate(uploads, 1):
        if key in by_key:
            cloud.wait(by_key[key], timeout=timeout)
        if progress is not None:
            progress(done, total)
    alerts = alerts_by_execution(cloud)
    results: list[SourceResult] = []
    for path, key in uploads:
        arn = by_key.get(key)
        if arn is None:
            results.append(SourceResult(
                source=str(path), key=key, status="FAILED", error="NoExecution",
                cause="the key does not match the rule's pattern (KeyPrefix/AllowedSuffixes)",
                execution=""))
            continue
        results.append(result_of(cloud, arn, str(path), key, alerts))
    if out_dir is not None:
        download(cloud, results, out_dir)
    return results


def download(cloud: LocalCloud, results: Iterable[SourceResult], out_dir: Path) -> None:
    """Copy every thumbnail of the results into out_dir, under its key."""
    s3 = cloud.client("s3")
    out_dir.mkdir(parents=True, exist_ok=True)
    for result in results:
        for thumb in result.thumbnails:
            target = safe_local_path(out_dir, thumb["key"])
            target.parent.mkdir(parents=True, exist_ok=True)
            body = s3.get_object(Bucket=cloud.deployed.thumbnail_bucket, Key=thumb["key"])["Body"]
            target.write_bytes(body.read())
