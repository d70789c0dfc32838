"""render with gravity: smart crops keep the subject, a focal point wins, orientation is respected."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw
from thumbnailer.imaging import render
from thumbnailer.spec import SizeSpec

from tests import images
from tests.unit.thumbnailer.imaging.checks import CAP, opened

SMART = SizeSpec(128, 128, "cover", gravity="smart")
CENTRE = SizeSpec(128, 128, "cover")


def skin_share(im: Image.Image) -> float:
    """The share of pixels that are the subject's skin tone (the sky is bluer than it is red)."""
    rgb = im.convert("RGB")
    pixels = list(rgb.get_flattened_data())
    return sum(1 for r, g, b in pixels if r > g + 20 and r > b + 35) / len(pixels)  # type: ignore[misc]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_smart_crop_keeps_the_subject_under_every_orientation(orientation: int) -> None:
    upright, _ = images.off_centre_subject(1200, 675, at=(0.84, 0.5))
    data = images.save(images.stored_for(upright, orientation), "JPEG", quality=90,
                       exif=images.exif_bytes(orientation=orientation))
    smart, centre = render(data, [SMART, CENTRE], max_pixels=CAP)
    assert (smart.width, smart.height) == (centre.width, centre.height) == (128, 128)
    # The subject, an oval 0.3 x 0.4 of the frame's height, is ~9% of a 675-px square crop.
    kept, cut = skin_share(opened(smart.body)), skin_share(opened(centre.body))
    assert kept > 0.075 and cut < 0.015


def test_sizes_without_gravity_are_the_centred_crops_they_always_were() -> None:
    """A smart size in the same group changes nothing for the others, byte for byte."""
    upright, _ = images.off_centre_subject(1200, 675)
    data = images.save(upright, "JPEG", quality=90)
    (alone,) = render(data, [CENTRE], max_pixels=CAP)
    _, beside = render(data, [SMART, CENTRE], max_pixels=CAP)
    assert beside.body == alone.body


def marked(orientation: int) -> tuple[bytes, tuple[float, float]]:
    """A wide grey image with a red disc near its left end, as displayed; stored for ``orientation``."""
    upright = Image.new("RGB", (900, 300), (128, 128, 128))
    ImageDraw.Draw(upright).ellipse((60, 110, 140, 190), fill=(230, 20, 20))
    data = images.save(images.stored_for(upright, orientation), "JPEG", quality=92,
                       exif=images.exif_bytes(orientation=orientation))
    return data, (100 / 900, 150 / 300)


def red_share(im: Image.Image) -> float:
    pixels = list(im.convert("RGB").get_flattened_data())
    return sum(1 for r, g, b in pixels if r > 180 and g < 80 and b < 80) / len(pixels)  # type: ignore[misc]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_focal_point_on_the_displayed_image_is_where_the_smart_crop_centres(orientation: int) -> None:
    data, point = marked(orientation)
    smart, centre = render(data, [SMART, CENTRE], max_pixels=CAP, focus=point)
    shown = opened(smart.body)
    whole, missed = red_share(shown), red_share(opened(centre.body))
    assert whole > 0.045 and missed == 0  # the disc is ~5.6% of the 300-px square
    # All of it in the crop's left half (the window stops at the image's edge), none near the top.
    left, top = red_share(shown.crop((0, 0, 64, 128))), red_share(shown.crop((0, 0, 128, 40)))
    assert left == pytest.approx(2 * whole) and top == 0


def test_a_focal_point_overrides_what_the_image_itself_suggests() -> None:
    upright, _ = images.off_centre_subject(1200, 675, at=(0.84, 0.5))
    data = images.save(upright, "JPEG", quality=90)
    (toward_face,) = render(data, [SMART], max_pixels=CAP)
    (elsewhere,) = render(data, [SMART], max_pixels=CAP, focus=(0.1, 0.5))
    kept, elsewhere_kept = skin_share(opened(toward_face.body)), skin_share(opened(elsewhere.body))
    assert kept > 0.075 and elsewhere_kept == 0
