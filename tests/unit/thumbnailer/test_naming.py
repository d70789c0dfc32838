"""The one naming rule: source key in, thumbnail key out, and back."""

from __future__ import annotations

import pytest
from thumbnailer.naming import ThumbnailName, key_stem, parse_thumbnail_key, thumbnail_key


@pytest.mark.parametrize(
    ("key", "stem"),
    [
        ("photos/cat.jpg", "photos/cat"),
        ("cat.jpeg", "cat"),
        ("a.b/c.d.jpg", "a.b/c.d"),  # only the last segment's last dot
        ("photos/.hidden", "photos/.hidden"),  # a leading dot is not an extension
        ("photos/noext", "photos/noext"),
        ("dir.v2/noext", "dir.v2/noext"),
        ("photos/trailing.", "photos/trailing"),
    ],
)
def test_key_stem(key: str, stem: str) -> None:
    assert key_stem(key) == stem


def test_thumbnail_key_follows_the_rule() -> None:
    assert thumbnail_key("photos/cat.jpg", 200, 200, "jpg") == "photos/cat_200x200.jpg"
    assert thumbnail_key("photos/cat.PNG", 64, 48, "webp") == "photos/cat_64x48.webp"


def test_sources_differing_only_in_extension_share_names() -> None:
    """The on-demand resizer finds a source by trying extensions: both spellings name one thumbnail."""
    assert thumbnail_key("a/b.jpg", 10, 20, "png") == thumbnail_key("a/b.TIFF", 10, 20, "png")


def test_parse_is_the_inverse_of_the_rule() -> None:
    for key in ("photos/cat.jpg", "x_1x1.png", "deep/er/name.with.dots.webp", "ünïcode/ключ.jpg"):
        name = parse_thumbnail_key(thumbnail_key(key, 4096, 17, "webp"))
        assert name == ThumbnailName(key_stem(key), 4096, 17, "webp")


def test_parse_takes_the_last_size_and_lowers_the_extension() -> None:
    assert parse_thumbnail_key("a_1x2_30x40.JPG") == ThumbnailName("a_1x2", 30, 40, "jpg")


def test_a_key_with_a_line_break_parses_by_the_same_rule() -> None:
    assert parse_thumbnail_key(thumbnail_key("a\nb.jpg", 1, 2, "png")) == ThumbnailName("a\nb", 1, 2, "png")


@pytest.mark.parametrize("key", ["cat.jpg", "_200x200.jpg", "cat_200x200", "cat_200x.jpg", "cat_x200.jpg",
                                 "cat_123456x1.jpg", "cat_200x200.toolong", "cat_200x200.jp g",
                                 "cat_200x200.jpg\n"])
def test_keys_outside_the_rule_do_not_parse(key: str) -> None:
    assert parse_thumbnail_key(key) is None
