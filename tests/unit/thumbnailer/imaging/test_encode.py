"""encode: pinned settings, no metadata, alpha only where the format can keep it."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops, JpegImagePlugin
from thumbnailer.imaging import encode

from tests import images
from tests.unit.thumbnailer.imaging.checks import close, mean, opened, photo


def with_metadata(im: Image.Image) -> Image.Image:
    """``im`` carrying what a decoded source's info would: EXIF, ICC, XMP, a comment."""
    im.info.update(
        exif=images.secret_exif(),
        icc_profile=images.ADOBE_LIKE_ICC,
        xmp=images.XMP,
        comment=b"corpus-secret-comment",
    )
    return im


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp"])
def test_equal_pixels_give_equal_bytes_and_no_metadata(fmt: str) -> None:
    first = encode.encode(with_metadata(photo(120, 90)), fmt, 80)
    assert first == encode.encode(with_metadata(photo(120, 90)), fmt, 80)
    out = opened(first)
    assert out.format.lower() == fmt
    assert not {"exif", "icc_profile", "xmp", "comment", "XML:com.adobe.xmp"} & set(out.info)
    for secret in images.SECRETS:
        assert secret not in first


def test_jpeg_composites_alpha_on_white() -> None:
    holed = images.with_hole(photo(120, 90))
    out = opened(encode.encode(holed, "jpeg", 90))
    assert out.mode == "RGB"
    assert close(mean(out, (5, 5, 50, 85)), (255, 255, 255), 2)
    assert close(mean(out, (70, 5, 115, 85)), mean(photo(120, 90), (70, 5, 115, 85)), 4)
    grey = opened(encode.encode(holed.convert("LA"), "jpeg", 90))
    assert grey.mode == "L" and mean(grey, (5, 5, 50, 85))[0] > 253


@pytest.mark.parametrize(
    ("mode", "fmt", "want"),
    [
        ("L", "webp", "RGB"),
        ("LA", "webp", "RGBA"),
        ("LA", "png", "LA"),
        ("L", "jpeg", "L"),
        ("RGBA", "png", "RGBA"),
    ],
)
def test_modes_each_format_keeps(mode: str, fmt: str, want: str) -> None:
    src = images.with_hole(photo(60, 40)).convert(mode)
    assert opened(encode.encode(src, fmt, 80)).mode == want


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
def test_quality_is_honoured(fmt: str) -> None:
    src = photo(300, 200)
    low, high = (encode.encode(src, fmt, q) for q in (30, 95))
    assert len(low) * 1.5 < len(high)

    def error(body: bytes) -> float:
        return mean(ImageChops.difference(opened(body).convert("RGB"), src).convert("L"))[0]

    assert error(high) < error(low)


def test_jpeg_is_baseline_with_full_chroma_from_quality_90() -> None:
    src = photo(640, 480)
    for quality, sampling in ((89, 2), (90, 0)):
        out = Image.open(io.BytesIO(encode.encode(src, "jpeg", quality)))
        assert isinstance(out, JpegImagePlugin.JpegImageFile)
        assert JpegImagePlugin.get_sampling(out) == sampling
        assert not out.info.get("progressive")
