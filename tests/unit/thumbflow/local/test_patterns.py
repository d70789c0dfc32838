"""Local mode's EventBridge matcher, on the documentation's own examples and the template's patterns."""

from __future__ import annotations

from typing import Any

import pytest

from tests.eventpatterns import CASES, INVALID, MOTO_DIFFERS
from thumbflow.local.patterns import EventPattern, PatternError


@pytest.mark.parametrize(("name", "pattern", "event", "matches"), CASES + MOTO_DIFFERS,
                         ids=[c[0] for c in CASES + MOTO_DIFFERS])
def test_documented_examples(name: str, pattern: dict[str, Any], event: dict[str, Any],
                             matches: bool) -> None:
    assert EventPattern(pattern).matches(event) is matches


@pytest.mark.parametrize(("name", "pattern"), INVALID, ids=[c[0] for c in INVALID])
def test_patterns_eventbridge_refuses_are_refused(name: str, pattern: dict[str, Any]) -> None:
    with pytest.raises(PatternError):
        EventPattern(pattern)


def s3_event(key: str, bucket: str = "src") -> dict[str, Any]:
    return {"source": "aws.s3", "detail-type": "Object Created",
            "detail": {"bucket": {"name": bucket}, "object": {"key": key, "size": 5}}}


UPLOAD_RULE = {  # the shape of template.yaml's Upload rule with AllowedSuffixes ".jpg,.png"
    "source": ["aws.s3"], "detail-type": ["Object Created"],
    "detail": {"bucket": {"name": ["src"]},
               "object": {"key": [{"suffix": {"equals-ignore-case": ".jpg"}},
                                  {"suffix": {"equals-ignore-case": ".png"}}]}},
}


@pytest.mark.parametrize(("key", "matches"), [
    ("IMG_1.JPG", True), ("phone/IMG_2.Jpg", True), ("logo.PNG", True), ("notes.txt", False),
    ("photo.jpeg", False), ("archive.jpg.zip", False), ("jpg", False),
])
def test_upload_rule_suffixes_ignore_case(key: str, matches: bool) -> None:
    assert EventPattern(UPLOAD_RULE).matches(s3_event(key)) is matches


def test_upload_rule_names_its_bucket_and_event_type() -> None:
    rule = EventPattern(UPLOAD_RULE)
    assert not rule.matches(s3_event("a.jpg", bucket="other"))
    assert not rule.matches({**s3_event("a.jpg"), "detail-type": "Object Deleted"})


def test_empty_prefix_matches_every_key() -> None:
    """KeyPrefix "" in the template gives {"prefix": ""}: every string starts with it."""
    rule = EventPattern({"detail": {"object": {"key": [{"prefix": ""}]}}})
    assert rule.matches(s3_event("anything/at/all"))
    assert not rule.matches({"detail": {"object": {"size": 1}}})  # but the key must be there


def test_wildcard_escapes() -> None:
    assert EventPattern({"k": [{"wildcard": "a\\*b"}]}).matches({"k": "a*b"})
    assert not EventPattern({"k": [{"wildcard": "a\\*b"}]}).matches({"k": "axxb"})
    with pytest.raises(PatternError):
        EventPattern({"k": [{"wildcard": "a**b"}]})


def test_values_are_typed() -> None:
    assert not EventPattern({"n": ["1"]}).matches({"n": 1})
    assert EventPattern({"n": [1]}).matches({"n": 1.0})
    assert not EventPattern({"b": [True]}).matches({"b": 1})
    assert not EventPattern({"s": [{"prefix": "1"}]}).matches({"s": 12})
