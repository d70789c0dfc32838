"""heif: HEIC/HEIF through the engine, on real files pillow-heif's encoder wrote.

Orientation is the crux: the encoder stores a phone's pixels as they came off the sensor
with irot/imir boxes *and* keeps the EXIF orientation tag, as iPhones do. libheif applies the
boxes; the tag must then be ignored, or the photo turns twice. Every thumbnail is compared
with ``ImageOps.exif_transpose`` of the very pixels that were stored.
"""

from __future__ import annotations

import io
import struct

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat
from thumbnailer import imaging
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import HEADER_BYTES, heif, pillow
from thumbnailer.imaging.sparse import Sparse

from tests import images
from tests.unit.thumbnailer.imaging.checks import CAP, P3_TO_SRGB, close, expected, mean, opened, spec


def test_the_pinned_heif_decoder_is_installed_with_hevc() -> None:
    """pillow-heif is pinned for Lambda and locally alike: without it every HEIC would fail."""
    assert heif.available()


def rendered(data: bytes, width: int = 480, fmt: str = "png") -> Image.Image:
    (out,) = imaging.render(data, [spec(width, fmt=fmt)], max_pixels=CAP)
    return opened(out.body)


def difference(a: Image.Image, b: Image.Image) -> float:
    assert a.size == b.size, (a.size, b.size)
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB"))).mean) / 3


def upright(stored: Image.Image, orientation: int) -> Image.Image:
    """What a browser shows for a JPEG of these pixels with this tag: the oracle."""
    tagged = stored.copy()
    tagged.info["exif"] = images.exif_bytes(orientation=orientation)
    return ImageOps.exif_transpose(tagged)


def test_a_portrait_phone_photo_with_exif_6_comes_out_upright_once() -> None:
    """Sensor pixels 480x320, EXIF 6, irot written by the encoder: a 320x480 portrait."""
    stored = images.photo(480, 320, seed=4, grain=0.05)
    data = images.heic(stored, exif=images.exif_bytes(orientation=6))
    assert b"irot" in data and b"Exif" in data
    facts = imaging.probe(data, total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height, facts.orientation) == (320, 480, 1)
    out = rendered(data, 480)
    want = upright(stored, 6)
    assert out.size == want.size == (320, 480)
    assert difference(out, want) < 3
    for wrong in (stored.transpose(Image.Transpose.ROTATE_90), want.transpose(Image.Transpose.ROTATE_180)):
        assert difference(out, wrong.resize(out.size)) > 15  # turned twice, or the other way


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_applied_exactly_once(orientation: int) -> None:
    stored = images.stored_for(images.quadrants(480, 320), orientation)
    out = rendered(images.oriented_heic(orientation))
    assert difference(out, upright(stored, orientation)) < 2


def test_an_exif_tag_without_irot_is_ignored_as_heif_says() -> None:
    """HEIF's EXIF orientation is informative: libheif, libvips and browsers do not apply it."""
    out = rendered(images.heic_exif_orientation_only(6))
    assert difference(out, images.quadrants(480, 320)) < 2


@pytest.mark.parametrize("primary", [0, 1])
def test_only_the_primary_image_of_a_collection_is_rendered(primary: int) -> None:
    out = rendered(images.heic_sequence(primary), 320)
    assert difference(out, images.quadrants(320, 240)) < 2


def test_a_grid_is_decoded_whole() -> None:
    out = rendered(images.heic(images.quadrants(600, 400), tile_size=256), 600)
    assert difference(out, images.quadrants(600, 400)) < 2


def test_alpha_is_kept_and_ten_bits_become_eight() -> None:
    alpha = rendered(images.heic_alpha(), 300)
    assert alpha.mode == "RGBA" and alpha.getpixel((150, 10))[3] == 0 and alpha.getpixel((150, 100))[3] == 255  # type: ignore[index]
    deep = rendered(images.heic_10bit(), 300)
    assert deep.mode == "RGB" and difference(deep, images.quadrants(300, 200)) < 3
    grey = rendered(images.heic(images.quadrants(160, 120).convert("L")), 160)
    assert grey.mode == "L"


def test_an_icc_profile_is_converted_to_srgb() -> None:
    out = rendered(images.heic(images.quadrants(300, 200), icc_profile=images.SWAPPED_ICC), 300)
    (r, g, b) = images.RED
    assert close(mean(out, (10, 10, 140, 90)), (g, r, b), 8)  # the profile says red is green


def test_nclx_display_p3_is_converted_to_srgb_and_bt709_is_left_alone() -> None:
    """P3 (60, 170, 60) in sRGB, by the published P3-D65 -> sRGB linear matrix (not littlecms)."""
    patch = Image.new("RGB", (64, 64), (60, 170, 60))

    def nclx(primaries: int) -> bytes:
        return images.heic(
            patch, color_primaries=primaries, transfer_characteristics=13, matrix_coefficients=6,
            full_range_flag=1,
        )  # fmt: skip

    want = expected(P3_TO_SRGB, (60, 170, 60))
    assert close(mean(rendered(nclx(12), 64)), want, 4)
    assert close(mean(rendered(nclx(1), 64)), (60, 170, 60), 4)


@pytest.mark.parametrize("fmt", ["jpeg", "png", "webp", "avif"])
def test_no_metadata_reaches_a_thumbnail(fmt: str) -> None:
    data = images.heic(images.quadrants(300, 200), exif=images.secret_exif(), xmp=images.XMP)
    assert b"CorpusSecretCam" in data and b"corpus-secret-xmp" in data
    (out,) = imaging.render(data, [spec(200, fmt=fmt)], max_pixels=CAP)
    assert not any(secret in out.body for secret in images.SECRETS)
    assert not {"exif", "xmp", "icc_profile"} & set(opened(out.body).info)


def test_the_header_is_read_without_libheif_from_the_first_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validate reads 64 KiB of a file of any size: our parse opens it, libheif never runs."""
    data = images.heic(images.photo(640, 480), thumbnails=[96])
    padded = data + bytes(3 * HEADER_BYTES)  # as if the image data ran on past the first read

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("libheif was asked to open the header")

    monkeypatch.setattr(heif.pillow_heif, "open_heif", refuse)
    facts = imaging.probe(padded[:HEADER_BYTES], total_bytes=len(padded), max_pixels=CAP)
    assert facts is not None
    assert (facts.format, facts.width, facts.height, facts.mode) == ("heif", 640, 480, "RGB")
    with pillow.scope():
        im = pillow.open_header(Sparse.of(padded[:HEADER_BYTES], len(padded)), "heif")
    assert isinstance(im, heif.HeifImageFile) and im.size == (640, 480)


def test_pillow_itself_is_left_as_it_was() -> None:
    """No plugin is registered: Image.open still knows no HEIF, so nothing else decodes one."""
    assert "heif" in pillow.READERS
    assert all(factory is not heif.HeifImageFile for factory, _ in Image.OPEN.values())
    with pytest.raises(Image.UnidentifiedImageError):
        Image.open(io.BytesIO(images.heic(images.quadrants(32, 32))))


def test_load_decodes_the_primary_image_in_place() -> None:
    with pillow.scope():
        im = pillow.open_header(images.heic_alpha(), "heif")
    assert isinstance(im, heif.HeifImageFile) and im.mode == "RGBA"
    im.load()
    assert im.size == (300, 200) and im.getpixel((150, 10))[3] == 0  # type: ignore[index]


CLAIM = struct.pack(">II", 60_000, 60_000)


@pytest.mark.parametrize(
    ("build", "reason", "detail"),
    [
        (lambda d: d[: len(d) * 2 // 3], "truncated", "heif"),
        (lambda d: d[:200], "truncated", "heif header ends early"),
        (lambda d: d[: d.index(b"mdat") + 8] + bytes(len(d) - d.index(b"mdat") - 8), "corrupt", "heif"),
        (lambda d: images.heic_patched(d, b"ispe", 4, CLAIM), "too-many-pixels", "60000x60000"),
    ],
)
def test_cut_corrupt_and_lying_files_are_refused_by_name(build: object, reason: str, detail: str) -> None:
    data = build(images.heic(images.photo(320, 240)))  # type: ignore[operator]
    with pytest.raises(ImageRejected) as exc:
        imaging.render(data, [spec(128)], max_pixels=CAP)
    assert exc.value.reason == reason and detail in exc.value.detail, exc.value
    assert "\n" not in str(exc.value)
