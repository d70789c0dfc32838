"""Suite-wide options: ``--reliability-doc`` writes docs/reliability.md after a green run.

At the repository root, not in tests/: pytest reads the conftest of every path given on the
command line, and an existing docs/reliability.md given as the option's value counts as one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import reliability


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-doc",
        default=None,
        help="write the hardening cases recorded by this run to this markdown file (green runs only)",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = session.config.getoption("--reliability-doc")
    if not path or exitstatus != 0 or session.testsfailed:
        return
    rows = reliability.rows()
    if not rows:
        return
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(reliability.markdown(rows), encoding="utf-8")
