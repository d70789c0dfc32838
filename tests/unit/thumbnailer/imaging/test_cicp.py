"""cicp: nclx code points as an ICC profile, checked by littlecms against published matrices."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms
from thumbnailer.imaging import cicp, colour

from tests.unit.thumbnailer.imaging.checks import (
    BT2020_TO_SRGB,
    P3_TO_SRGB,
    expected,
)


def through(icc: bytes, rgb: tuple[int, int, int]) -> tuple[int, ...]:
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    out = ImageCms.profileToProfile(Image.new("RGB", (1, 1), rgb), profile, ImageCms.createProfile("sRGB"))
    assert out is not None
    return out.getpixel((0, 0))  # type: ignore[return-value]


@pytest.mark.parametrize(("primaries", "matrix"), [(12, P3_TO_SRGB), (9, BT2020_TO_SRGB)])
@pytest.mark.parametrize("rgb", [(60, 170, 60), (200, 40, 120), (128, 128, 128), (250, 250, 10)])
def test_wide_gamuts_convert_as_their_published_matrices_say(
    primaries: int, matrix: tuple[tuple[float, ...], ...], rgb: tuple[int, int, int]
) -> None:
    icc = cicp.icc_for(primaries, 13)
    assert icc is not None
    got = through(icc, rgb)
    want = expected(matrix, rgb)
    assert all(abs(a - b) <= 1.5 for a, b in zip(got, want, strict=True)), (got, want)


def test_a_linear_transfer_curve_is_honoured() -> None:
    icc = cicp.icc_for(1, 8)
    assert icc is not None
    identity = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))
    got = through(icc, (64, 128, 192))
    want = expected(identity, (64, 128, 192), decode=lambda v: v / 255)
    assert all(abs(a - b) <= 1.5 for a, b in zip(got, want, strict=True)), (got, want)


@pytest.mark.parametrize(("primaries", "transfer"), [(1, 13), (1, 1), (2, 2), (1, 6), (2, 13)])
def test_code_points_that_mean_srgb_give_no_profile(primaries: int, transfer: int) -> None:
    assert cicp.icc_for(primaries, transfer) is None


def test_unknown_primaries_are_trusted_like_an_unreadable_profile() -> None:
    assert cicp.icc_for(99, 13) is None


def test_the_engine_takes_the_profile_like_an_embedded_one() -> None:
    """colour.to_srgb builds a transform from it: the description does not say sRGB."""
    icc = cicp.icc_for(12, 13)
    assert icc is not None and colour.to_srgb(icc, "RGB") is not None
    assert colour.to_srgb(icc, "L") is None  # an RGB profile says nothing about grey pixels
