"""attention + geometry: a smart crop keeps the subject that a centred crop cuts off."""

from __future__ import annotations

import pytest
from PIL import Image, ImageStat
from thumbnailer.imaging import attention, geometry
from thumbnailer.spec import SizeSpec

from tests import images

SMART = SizeSpec(128, 128, "cover", gravity="smart")
CENTRE = SizeSpec(128, 128, "cover")


def kept(mask: Image.Image, region: geometry.Region) -> float:
    """The share of the subject's pixels inside the crop window."""
    x0, y0, x1, y1 = (round(v) for v in region)
    inside = ImageStat.Stat(mask.crop((x0, y0, x1, y1))).sum[0]
    return inside / ImageStat.Stat(mask).sum[0]


def windows(im: Image.Image, spec: SizeSpec, mode: str = "RGB") -> tuple[geometry.Region, geometry.Region]:
    """(smart, centred) crop windows of ``spec`` on ``im``."""
    seen = attention.interest(im, mode)
    smart = geometry.plan(0, spec, im.size, False, interest=seen).region
    centred = geometry.plan(0, SizeSpec(spec.width, spec.height, "cover"), im.size, False).region
    return smart, centred


@pytest.mark.parametrize(
    ("size", "at", "centre_keeps"),
    [
        ((960, 540), (0.84, 0.5), 0.2),  # landscape, subject right
        ((960, 540), (0.15, 0.5), 0.2),  # landscape, subject left
        ((540, 960), (0.5, 0.16), 0.2),  # portrait, subject at the top
        ((540, 960), (0.5, 0.85), 0.2),  # portrait, subject at the bottom
        ((4000, 3000), (0.88, 0.5), 0.5),  # 12 MP, 4:3: the centred square reaches further
    ],
)
def test_a_smart_crop_keeps_the_off_centre_subject(
    size: tuple[int, int], at: tuple[float, float], centre_keeps: float
) -> None:
    im, mask = images.off_centre_subject(*size, at=at)
    smart, centred = windows(im, SMART)
    assert kept(mask, smart) >= 0.99
    assert kept(mask, centred) <= centre_keeps
    # And the subject sits well inside the window, not against its edge.
    x0, y0, x1, y1 = smart
    box = mask.getbbox()
    assert box is not None
    assert x0 <= box[0] and box[2] <= x1 and y0 <= box[1] and box[3] <= y1


def test_a_wide_smart_crop_keeps_the_subject_too() -> None:
    im, mask = images.off_centre_subject(960, 960, at=(0.5, 0.8))
    smart, centred = windows(im, SizeSpec(300, 100, "cover", gravity="smart"))
    assert kept(mask, smart) > 0.9 > 0.5 > kept(mask, centred)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "RGBX", "CMYK"])
def test_every_working_mode_is_scored(mode: str) -> None:
    im, mask = images.off_centre_subject()
    if mode == "LA":
        converted = im.convert("LA")
    elif mode == "RGBA":
        converted = im.convert("RGBA")
        converted.putalpha(Image.new("L", im.size, 200))
    else:
        converted = im.convert(mode)
    working = "RGB" if mode == "RGBX" else mode
    smart, _ = windows(converted, SMART, working)
    assert kept(mask, smart) >= 0.99


def test_a_transparent_background_does_not_count_as_detail() -> None:
    """What is under alpha 0 is never seen: noise there must not pull the crop."""
    im, mask = images.off_centre_subject()
    rgba = im.convert("RGBA")
    noisy = images.noise((300, 540), seed=9, amplitude=200).convert("RGB")
    rgba.paste(noisy, (0, 0))
    alpha = Image.new("L", im.size, 255)
    alpha.paste(0, (0, 0, 300, 540))  # the noise is fully transparent
    rgba.putalpha(alpha)
    smart, _ = windows(rgba, SMART, "RGBA")
    assert kept(mask, smart) >= 0.99


def test_an_image_without_a_subject_keeps_the_centred_crop() -> None:
    flat = Image.new("RGB", (960, 540), (120, 140, 160))
    for im in (flat, images.noise((960, 540), seed=3).convert("RGB")):
        smart, centred = windows(im, SMART)
        assert smart == centred


def test_the_scores_are_the_same_for_the_same_pixels() -> None:
    im, _ = images.off_centre_subject()
    assert attention.interest(im, "RGB") == attention.interest(im.copy(), "RGB")
    seen = attention.interest(im, "RGB")
    assert len(seen.columns) == attention.SAMPLE and len(seen.rows) == 144  # 960x540 sampled to 256x144
    assert min(seen.columns) >= 0 and min(seen.rows) >= 0


def test_tiny_images_are_scored_without_error() -> None:
    for size in ((1, 1), (2, 5), (7, 3)):
        seen = attention.interest(Image.new("RGB", size, (200, 150, 120)), "RGB")
        assert all(v >= 0 for v in (*seen.columns, *seen.rows))
