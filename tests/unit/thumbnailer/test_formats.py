"""The format table: every name a format has, and the room a thumbnail name needs."""

from __future__ import annotations

import pytest
from thumbnailer import formats
from thumbnailer.naming import thumbnail_key


@pytest.mark.parametrize(("given", "want"), [("jpeg", "jpeg"), ("JPG", "jpeg"), ("jpg", "jpeg"),
                                             ("WebP", "webp"), ("auto", "auto"), ("tiff", "tiff")])
def test_normalise_spells_names_our_way_and_passes_unknown_ones(given: str, want: str) -> None:
    assert formats.normalise(given) == want


def test_auto_keeps_transparency_as_webp_and_writes_jpeg_otherwise() -> None:
    assert formats.resolve("auto", transparent=True).name == "webp"
    assert formats.resolve("auto", transparent=False).name == "jpeg"
    assert formats.resolve("png", transparent=False).content_type == "image/png"
    assert formats.resolve("jpeg", transparent=True).extension == "jpg"  # explicit formats win


def test_candidates_are_every_format_auto_may_have_written() -> None:
    for transparent in (False, True):
        assert formats.resolve("auto", transparent=transparent) in formats.candidates("auto")
    assert [f.name for f in formats.candidates("png")] == ["png"]


def test_extensions_map_back_to_their_formats() -> None:
    assert {ext: f.name for ext, f in formats.BY_EXTENSION.items()} == {"jpg": "jpeg", "png": "png",
                                                                        "webp": "webp", "avif": "avif"}
    assert set(formats.CONFIGURABLE) == {"jpeg", "png", "webp", "avif", "auto"}
    assert formats.SOURCE_EXTENSIONS[0] == "jpg"  # the commonest first: fewest HEADs on demand
    assert {"heic", "heif"} <= set(formats.SOURCE_EXTENSIONS)  # what phones upload


def test_avif_is_written_as_image_avif_and_auto_never_picks_it() -> None:
    """AVIF only where a size asks for it: auto stays JPEG/WebP (stored thumbnails keep their names)."""
    avif = formats.resolve("avif", transparent=True)
    assert (avif.name, avif.extension, avif.content_type) == ("avif", "avif", "image/avif")
    assert formats.BY_EXTENSION["avif"] is avif
    assert avif not in formats.candidates("auto") and formats.candidates("avif") == (avif,)


def test_max_suffix_is_the_longest_suffix_the_naming_rule_adds() -> None:
    side = formats.MAX_SIDE
    added = [len(thumbnail_key("a.jpg", side, side, f.extension)) - 1 for f in formats.OUTPUTS.values()]
    assert max(added) == formats.MAX_SUFFIX_BYTES
