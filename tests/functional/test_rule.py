"""The upload rule's filter, KeyPrefix and AllowedSuffixes, with EventBridge's semantics.

AllowedSuffixes is documented as case-insensitive: the rule uses EventBridge's
``suffix``/``equals-ignore-case`` matcher. EventBridge cannot AND a prefix with a
suffix on one field, so with a KeyPrefix the rule matches the prefix and Validate
ignores other suffixes by name (the execution succeeds with outcome ``ignored``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import images
from tests.functional.conftest import TIME_SCALE, output
from thumbflow.local.cloud import LocalCloud


def started_for(cloud: LocalCloud, key: str) -> list[str]:
    return [arn for arn, event in cloud.started if event["detail"]["object"]["key"] == key]


@pytest.fixture(scope="class")
def suffix_cloud() -> Iterator[LocalCloud]:
    with LocalCloud(parameters={"AllowedSuffixes": ".jpg,.png"}, time_scale=TIME_SCALE) as c:
        yield c


@pytest.fixture(scope="class")
def prefix_cloud() -> Iterator[LocalCloud]:
    params = {"KeyPrefix": "uploads/", "AllowedSuffixes": ".jpg,.png"}
    with LocalCloud(parameters=params, time_scale=TIME_SCALE) as c:
        yield c


class TestSuffixesOnly:
    """No KeyPrefix: the rule itself filters the suffixes."""

    @pytest.mark.parametrize("key", ["IMG_1.JPG", "phone/IMG_2.Jpg", "logo.PNG", "plain.jpg"])
    def test_allowed_suffix_matches_in_any_case(self, suffix_cloud: LocalCloud, key: str) -> None:
        suffix_cloud.upload(key, images.jpeg(120, 80))
        (arn,) = started_for(suffix_cloud, key)
        desc = suffix_cloud.wait(arn)
        assert desc["status"] == "SUCCEEDED", desc.get("cause")
        assert len(output(desc)["thumbnails"]) == 4

    @pytest.mark.parametrize("key", ["notes.txt", "photo.jpeg", "archive.jpg.zip", "jpg"])
    def test_other_suffixes_start_nothing(self, suffix_cloud: LocalCloud, key: str) -> None:
        suffix_cloud.upload(key, images.jpeg(120, 80))
        assert started_for(suffix_cloud, key) == []


class TestPrefixAndSuffixes:
    """KeyPrefix too: the rule matches the prefix, Validate ignores other suffixes by name."""

    def test_prefix_and_suffix_both_apply(self, prefix_cloud: LocalCloud) -> None:
        cloud = prefix_cloud
        cloud.upload("uploads/IMG_3.JPG", images.jpeg(120, 80))
        cloud.upload("elsewhere/IMG_4.JPG", images.jpeg(120, 80))
        cloud.upload("uploads/readme.txt", b"hello")
        (made,) = started_for(cloud, "uploads/IMG_3.JPG")
        assert output(cloud.wait(made))["outcome"] == "thumbnails"
        assert started_for(cloud, "elsewhere/IMG_4.JPG") == []
        (ignored,) = started_for(cloud, "uploads/readme.txt")
        desc = cloud.wait(ignored)
        assert desc["status"] == "SUCCEEDED"
        assert output(desc)["outcome"] == "ignored"
        assert output(desc)["reason"].startswith("suffix-not-allowed")
        assert [a for a in cloud.alerts() if a.body.get("key") == "uploads/readme.txt"] == []
