"""Error names: what alerts key on, and what the definition's Retry matches by class name."""

from __future__ import annotations

import json

from thumbnailer import errors

from tests.unit.conftest import REPO


def test_a_rejection_carries_its_slug_and_detail() -> None:
    exc = errors.ImageRejected("too-many-pixels", "12000x12000 is over 100000000")
    assert (exc.reason, exc.detail) == ("too-many-pixels", "12000x12000 is over 100000000")
    assert str(exc) == "too-many-pixels: 12000x12000 is over 100000000"
    assert str(errors.ImageRejected("svg")) == "svg"


def _retried(states: dict[str, object]) -> set[str]:
    names: set[str] = set()
    for state in states.values():
        assert isinstance(state, dict)
        for rule in state.get("Retry", []):
            names.update(rule["ErrorEquals"])
        for nested in ("ItemProcessor", "Iterator"):
            if nested in state:
                names |= _retried(state[nested]["States"])
    return names


def test_every_error_the_definition_retries_by_name_is_one_the_code_raises() -> None:
    definition = json.loads((REPO / "statemachine" / "thumbnails.asl.json").read_text())
    services = ("Lambda.", "States.", "Rekognition.")
    ours = {n for n in _retried(definition["States"]) if not n.startswith(services)}
    assert ours == {"TransientError"}
    assert all(isinstance(getattr(errors, name), type) for name in ours)
