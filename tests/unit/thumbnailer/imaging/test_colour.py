"""colour: embedded profiles become a transform to sRGB, computed by littlecms, or are ignored."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms, ImageDraw
from thumbnailer.imaging import colour

from tests import images
from tests.unit.thumbnailer.imaging.checks import close, mean, photo

PATCH = (10, 10, 90, 140)


def source() -> Image.Image:
    im = photo(200, 150)
    ImageDraw.Draw(im).rectangle((0, 0, 99, 149), fill=(60, 180, 60))
    return im


def littlecms(im: Image.Image, icc: bytes) -> Image.Image:
    """The oracle: littlecms itself, asked directly."""
    out = ImageCms.profileToProfile(
        im, ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB")
    )
    assert out is not None
    return out


@pytest.mark.parametrize(
    ("icc", "mode"),
    [
        (None, "RGB"),
        (b"", "RGB"),
        (images.srgb_icc(), "RGB"),  # already sRGB: nothing to do
        (images.ADOBE_LIKE_ICC, "L"),  # an RGB profile does not describe grey pixels
        (images.ADOBE_LIKE_ICC, "CMYK"),
        (b"not a profile at all" * 10, "RGB"),  # unreadable: ignored, as browsers do
    ],
)
def test_profiles_that_change_nothing_give_no_transform(icc: bytes | None, mode: str) -> None:
    assert colour.to_srgb(icc, mode) is None


def test_a_wide_gamut_profile_is_converted_to_srgb() -> None:
    src = source()
    expected = littlecms(src, images.ADOBE_LIKE_ICC)
    assert not close(mean(expected, PATCH), (60, 180, 60), 10)  # the conversion matters
    transform = colour.to_srgb(images.ADOBE_LIKE_ICC, "RGB")
    assert transform is not None
    out = colour.apply(src, transform)
    assert out.mode == "RGB" and close(mean(out, PATCH), mean(expected, PATCH), 3)


def test_a_channel_swapping_profile_swaps_channels() -> None:
    transform = colour.to_srgb(images.SWAPPED_ICC, "RGB")
    assert transform is not None
    out = colour.apply(Image.new("RGB", (4, 4), (220, 30, 30)), transform)
    r, g, b = out.getpixel((1, 1))  # type: ignore[misc]
    assert g > 180 and r < 70 and b < 70


def test_alpha_is_carried_over_untouched() -> None:
    rgba = images.with_hole(source().transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    transform = colour.to_srgb(images.ADOBE_LIKE_ICC, "RGBA")
    assert transform is not None
    out = colour.apply(rgba, transform)
    assert out.mode == "RGBA" and out.getchannel("A").tobytes() == rgba.getchannel("A").tobytes()
    flipped = (200 - PATCH[2], PATCH[1], 200 - PATCH[0], PATCH[3])
    assert close(
        mean(out.convert("RGB"), flipped), mean(littlecms(source(), images.ADOBE_LIKE_ICC), PATCH), 3
    )
