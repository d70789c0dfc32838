"""pillow: the global-state scope, Pillow's header parse, and where orientation is read from."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import pytest
from PIL import Image, PngImagePlugin, features
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import pillow

from tests import images
from tests.unit.thumbnailer.imaging.checks import AVIF, photo


def test_readable_formats_follow_this_pillow_build() -> None:
    for fmt in ("jpeg", "png", "gif", "webp", "tiff", "bmp"):
        assert pillow.readable(fmt) == fmt
    assert ("avif" in pillow.READERS) == features.check("avif")
    with pytest.raises(ImageRejected) as exc:
        pillow.readable("heic")
    assert (exc.value.reason, exc.value.detail) == (
        "unsupported-format",
        "heic (not supported by this build)",
    )


def test_heif_is_read_by_our_own_reader_which_pillow_does_not_know() -> None:
    """The header is our parse (no libheif), the pixels libheif's, already upright."""
    assert pillow.readable("heif") == "heif" and pillow.READERS["heif"] == "HEIF"
    data = images.heic(photo(40, 30), exif=images.exif_bytes(orientation=6))
    with pillow.scope():
        im = pillow.open_header(data, "heif")
        assert im is not None and (im.format, im.size, im.mode) == ("HEIF", (30, 40), "RGB")
        assert pillow.orientation(im) == 1  # the EXIF tag is never read: irot is the orientation
        pixels = pillow.load(im, "heif")
    assert pixels is not im and pixels.size == (30, 40)
    assert pillow.upright_after_load(im, "heif")
    assert all(factory is not type(im) for factory, _ in Image.OPEN.values())
    with pillow.scope():
        assert pillow.open_header(data[:60], "heif", complete=False) is None  # cut inside meta: read more


def test_scope_lifts_pillows_cap_and_restores_it_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1234)
    with pillow.scope():
        assert Image.MAX_IMAGE_PIXELS is None
        with pillow.scope():  # overlapping calls
            assert Image.MAX_IMAGE_PIXELS is None
        assert Image.MAX_IMAGE_PIXELS is None  # still inside the outer one
    assert Image.MAX_IMAGE_PIXELS == 1234


def test_scope_keeps_warnings_in_and_restores_filters() -> None:
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pillow.scope():
            warnings.warn("Pillow chatter", UserWarning, stacklevel=1)
        assert caught == []
    assert warnings.filters == filters


def warn_bomb() -> None:
    warnings.warn("big", Image.DecompressionBombWarning, stacklevel=1)


def raise_bomb() -> None:
    raise Image.DecompressionBombError("bigger")


@pytest.mark.parametrize("bomb", [warn_bomb, raise_bomb])
def test_scope_turns_pillows_bomb_signals_into_a_named_rejection(bomb: Callable[[], None]) -> None:
    with pytest.raises(ImageRejected) as exc, pillow.scope():
        bomb()
    assert exc.value.reason == "too-many-pixels"
    assert Image.MAX_IMAGE_PIXELS is not None  # restored on the way out


def test_open_header_parses_without_decoding() -> None:
    data = images.save(photo(80, 60), "PNG")
    im = pillow.open_header(data, "png", complete=True)
    assert im is not None and (im.size, im.mode) == ((80, 60), "RGB")
    assert im.tile  # pixels still to be decoded


def test_open_header_tells_cut_short_from_wrong() -> None:
    data = images.jpeg_with_big_exif(photo(64, 48), orientation=6)
    assert pillow.open_header(data[:5000], "jpeg", complete=False) is None  # fetch more
    with pytest.raises(ImageRejected) as exc:
        pillow.open_header(data[:5000], "jpeg", complete=True)
    assert exc.value.reason == "truncated"
    with pytest.raises(ImageRejected) as exc:
        pillow.open_header(images.png_claiming(64, 48, crc_ok=False), "png", complete=True)
    assert exc.value.reason == "corrupt"


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF", AVIF])
def test_orientation_is_read_where_each_format_keeps_it(orientation: int, fmt: str) -> None:
    data = images.save(photo(40, 30), fmt, exif=images.exif_bytes(orientation=orientation))
    im = pillow.open_header(data, fmt.lower(), complete=True)
    assert im is not None
    assert pillow.orientation(im) == orientation == im.getexif().get(0x0112, 1)


def test_orientation_from_an_imagemagick_png_text_chunk() -> None:
    raw = images.exif_bytes(orientation=6)
    info = PngImagePlugin.PngInfo()
    hexed = raw.hex()
    info.add_text(
        "Raw profile type exif",
        f"\nexif\n{len(raw):8d}\n" + "\n".join(hexed[i : i + 72] for i in range(0, len(hexed), 72)),
    )
    im = pillow.open_header(images.save(photo(40, 30), "PNG", pnginfo=info), "png", complete=True)
    assert im is not None and pillow.orientation(im) == 6 == im.getexif().get(0x0112)


@pytest.mark.parametrize(
    "raw", [None, b"", b"Exif\x00\x00garbage", images.exif_bytes(orientation=9), images.exif_bytes()]
)
def test_bogus_or_missing_exif_means_upright(raw: bytes | None) -> None:
    assert pillow.exif_orientation(raw) == 1


def test_xmp_orientation_is_ignored_like_browsers_do() -> None:
    xmp = (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="6"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )
    im = pillow.open_header(images.save(photo(40, 30), "JPEG", xmp=xmp), "jpeg", complete=True)
    assert im is not None and b'tiff:Orientation="6"' in im.info["xmp"]
    assert pillow.orientation(im) == 1


def test_pillows_tiff_reader_turns_pixels_upright_on_load() -> None:
    """The engine relies on this: after load a TIFF needs no further turn."""
    data = images.save(photo(40, 30), "TIFF", exif=images.exif_bytes(orientation=6))
    im = pillow.open_header(data, "tiff", complete=True)
    assert im is not None and pillow.orientation(im) == 6
    assert not pillow.upright_after_load(im, "tiff")
    im.load()
    assert pillow.upright_after_load(im, "tiff") and im.size == (30, 40)
    jpeg = pillow.open_header(
        images.save(photo(40, 30), "JPEG", exif=images.exif_bytes(orientation=6)), "jpeg", complete=True
    )
    assert jpeg is not None
    jpeg.load()
    assert not pillow.upright_after_load(jpeg, "jpeg") and jpeg.size == (40, 30)
