"""One lock: the local environment runs exactly the package versions the Lambda bundle ships.

functions/requirements.txt is what `sam build` (and `make package`) install into the bundle,
and pyproject.toml reads it as the project's dependencies. Thumbnails are byte-identical only
for one exact Pillow, and the S3 conditional writes need a botocore that knows them, so a
test run against other versions than the bundle's would prove nothing about what ships.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

import botocore.session
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.reliability import record

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "functions" / "requirements.txt"
LOCAL_ONLY = ROOT / "requirements-local.txt"
# Environment markers as the python3.13 arm64 Lambda runtime evaluates them.
LAMBDA_MARKERS = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
}


def requirements(path: Path) -> list[Requirement]:
    """The requirement lines of a requirements file (comments and blank lines skipped)."""
    lines = (line.partition("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [Requirement(line) for line in lines if line]


def pin(requirement: Requirement) -> str:
    """The exact version a requirement pins; fails on anything looser."""
    specs = list(requirement.specifier)
    assert len(specs) == 1 and specs[0].operator == "==", f"{requirement} is not an exact pin"
    assert "*" not in specs[0].version and requirement.marker is None, requirement
    return specs[0].version


def pins(path: Path) -> dict[str, str]:
    return {canonicalize_name(r.name): pin(r) for r in requirements(path)}


@pytest.mark.parametrize("path", [LOCK, LOCAL_ONLY], ids=lambda p: p.name)
def test_every_requirement_is_an_exact_pin(path: Path) -> None:
    """A range would let two installs of the same file differ."""
    reqs = requirements(path)
    assert reqs
    for requirement in reqs:
        pin(requirement)
    names = [canonicalize_name(r.name) for r in reqs]
    assert len(names) == len(set(names)), names


def test_lock_and_local_only_do_not_overlap() -> None:
    """A package pinned in both files could be pinned twice, differently."""
    assert set(pins(LOCK)) & set(pins(LOCAL_ONLY)) == set()


def test_pyproject_takes_its_dependencies_from_the_lock() -> None:
    """No second list of runtime dependencies that could drift from the bundle's."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "dependencies" not in pyproject["project"]
    assert pyproject["project"]["dynamic"] == ["dependencies"]
    files = pyproject["tool"]["setuptools"]["dynamic"]["dependencies"]["file"]
    assert [ROOT / f for f in files] == [LOCK, LOCAL_ONLY]


def test_installed_project_declares_exactly_the_pins() -> None:
    """The venv was installed from these files, not from an older pyproject (make re-installs)."""
    declared = {
        str(Requirement(r)) for r in metadata.requires("thumbflow") or [] if "extra ==" not in r
    }
    expected = {str(r) for r in requirements(LOCK) + requirements(LOCAL_ONLY)}
    assert declared == expected


@pytest.mark.parametrize(
    ("name", "version"), sorted({**pins(LOCK), **pins(LOCAL_ONLY)}.items()), ids=lambda v: str(v)
)
def test_installed_version_is_the_pinned_one(name: str, version: str) -> None:
    """What the tests import is what the bundle ships (and what local mode runs)."""
    assert metadata.version(name) == version


def test_lock_is_closed_for_the_lambda_runtime() -> None:
    """Every requirement of every locked package is locked too, at a version it accepts.

    Otherwise `sam build` would pick that package's version itself, build by build.
    """
    locked = {canonicalize_name(r.name): r for r in requirements(LOCK)}
    missing: list[str] = []
    for requirement in locked.values():
        extras = requirement.extras or {""}
        for line in metadata.requires(requirement.name) or []:
            needed = Requirement(line)
            marker = needed.marker
            if marker and not any(marker.evaluate({**LAMBDA_MARKERS, "extra": e}) for e in extras):
                continue
            have = locked.get(canonicalize_name(needed.name))
            if have is None or not needed.specifier.contains(pin(have), prereleases=True):
                missing.append(f"{requirement.name} needs {needed}")
    assert missing == []
    as_pinned = sum(metadata.version(r.name) == pin(r) for r in locked.values())
    record("Packaging", "Lambda bundle lock (functions/requirements.txt)",
           "every package and its requirements pinned; the venv has exactly those versions",
           f"{len(locked)} packages; requirements not locked: {', '.join(missing) or 'none'}; "
           f"{as_pinned} installed as pinned")


def test_pinned_botocore_sends_s3_conditional_writes() -> None:
    """Thumbnails are put with IfNoneMatch/IfMatch; an older botocore would reject the call."""
    members = botocore.session.get_session().get_service_model("s3").operation_model("PutObject").input_shape
    assert {"IfNoneMatch", "IfMatch"} <= set(members.members)
    assert metadata.version("botocore") == pins(LOCK)["botocore"]


def test_the_heif_decoder_is_locked_and_needs_only_pillow() -> None:
    """pillow-heif ships libheif (and its HEVC decoder) inside its wheel: nothing else to pin."""
    locked = pins(LOCK)
    assert "pillow-heif" in locked
    needs = [Requirement(r) for r in metadata.requires("pillow-heif") or []]
    runtime = [r for r in needs if r.marker is None or r.marker.evaluate({**LAMBDA_MARKERS, "extra": ""})]
    assert [canonicalize_name(r.name) for r in runtime] == ["pillow"]
    assert runtime[0].specifier.contains(locked["pillow"])
