"""The engine's public face, end to end on real bytes: the package's shape, sniff and probe."""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image, ImageFile
from thumbnailer import imaging
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import HEADER_BYTES, ImageFacts, pillow, probe, render, sniff

from tests import images
from tests.unit.thumbnailer.imaging.checks import CAP, photo, spec

REPO = Path(__file__).resolve().parents[4]
PACKAGE = REPO / "functions" / "thumbnailer" / "imaging"


def test_package_is_the_only_pil_user_and_its_pure_modules_need_none() -> None:
    def imports(path: Path) -> set[str]:
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        return names | {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}

    for path in PACKAGE.glob("*.py"):
        found = imports(path)
        assert not {"boto3", "botocore", "logging"} & found, path.name
        if path.stem in ("identify", "headers", "geometry", "sparse", "tiff", "containers", "layout", "cost"):
            assert not any(name.split(".")[0] == "PIL" for name in found), path.name
    others = [p for p in (REPO / "functions").rglob("*.py") if PACKAGE not in p.parents]
    assert others and all("PIL" not in {n.split(".")[0] for n in imports(p)} for p in others)


# --------------------------------------------------------------------------------------
# sniff


def test_sniff_refuses_by_name_what_this_build_cannot_read(monkeypatch: pytest.MonkeyPatch) -> None:
    avif = images.save(photo(64, 48), "AVIF")
    assert sniff(avif) == "avif"
    monkeypatch.delitem(pillow.READERS, "avif")
    with pytest.raises(ImageRejected) as exc:
        sniff(avif)
    assert (exc.value.reason, exc.value.detail) == (
        "unsupported-format",
        "avif (not supported by this build)",
    )
    with pytest.raises(ImageRejected) as exc:
        render(avif, [spec(10)], max_pixels=CAP)
    assert exc.value.reason == "unsupported-format"


@pytest.mark.parametrize(
    ("data", "reason"),
    [(images.SVG, "svg"), (images.TEXT, "text"), (b"", "empty"), (images.jxl_like(), "unsupported-format")],
)
def test_sniff_probe_and_render_refuse_alike(data: bytes, reason: str) -> None:
    outcomes = []
    for call in (
        lambda: sniff(data),
        lambda: probe(data, total_bytes=len(data), max_pixels=CAP),
        lambda: render(data, [spec(10)], max_pixels=CAP),
    ):
        with pytest.raises(ImageRejected) as exc:
            call()
        outcomes.append((exc.value.reason, exc.value.detail))
    assert outcomes == [outcomes[0]] * 3 and outcomes[0][0] == reason


# --------------------------------------------------------------------------------------
# probe


def test_probe_returns_none_until_header_is_complete_then_facts() -> None:
    data = images.jpeg_with_big_exif(photo(400, 300), orientation=6)
    assert probe(data[:1000], total_bytes=len(data), max_pixels=CAP) is None
    assert probe(data[:10], total_bytes=len(data), max_pixels=CAP) is None
    facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
    assert facts == ImageFacts("jpeg", 300, 400, "RGB", 6, 1)


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda: images.save(photo(50, 40), "PNG"), ("png", 50, 40, "RGB", 1)),
        (lambda: images.save(photo(50, 40).convert("RGBA"), "PNG"), ("png", 50, 40, "RGBA", 1)),
        (lambda: images.save(photo(50, 40).convert("CMYK"), "JPEG"), ("jpeg", 50, 40, "CMYK", 1)),
        (lambda: images.save(photo(50, 40).convert("L"), "JPEG"), ("jpeg", 50, 40, "L", 1)),
        (lambda: images.save(photo(50, 40), "GIF"), ("gif", 50, 40, "P", 1)),
        (lambda: images.save(photo(50, 40), "BMP"), ("bmp", 50, 40, "RGB", 1)),
        (lambda: images.save(photo(50, 40), "TIFF"), ("tiff", 50, 40, "RGB", 1)),
        (lambda: images.save(photo(50, 40), "WEBP"), ("webp", 50, 40, "RGB", 1)),
        (
            lambda: images.save(images.with_hole(photo(50, 40)), "WEBP", lossless=True),
            ("webp", 50, 40, "RGBA", 1),
        ),
        (lambda: images.save(images.sixteen_bit(50, 40), "PNG"), ("png", 50, 40, "I;16", 1)),
        (lambda: images.save(photo(50, 40), "AVIF"), ("avif", 50, 40, "RGB", 1)),
    ],
)
def test_probe_facts_per_format(make: Callable[[], bytes], expected: tuple[object, ...]) -> None:
    data = make()
    facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
    assert facts is not None
    assert (facts.format, facts.width, facts.height, facts.mode, facts.frames) == expected


def test_probe_counts_frames_from_headers() -> None:
    frames = [photo(40, 30, seed) for seed in range(3)]
    for fmt in ("PNG", "GIF", "WEBP", "TIFF"):
        data = images.save(frames[0], fmt, save_all=True, append_images=frames[1:])
        facts = probe(data, total_bytes=len(data), max_pixels=CAP)
        assert facts is not None and facts.frames == 3, (fmt, facts)


@pytest.mark.parametrize("orientation", [6, 8])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
def test_probe_gives_the_displayed_size(orientation: int, fmt: str) -> None:
    data = images.save(photo(60, 20), fmt, exif=images.exif_bytes(orientation=orientation))
    facts = probe(data, total_bytes=len(data), max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height, facts.orientation) == (20, 60, orientation)


def test_probe_waits_for_a_webp_exif_chunk_past_the_first_read() -> None:
    data = images.save(photo(60, 20), "WEBP", exif=images.exif_bytes(orientation=8))
    head = data[: data.index(b"EXIF")]
    assert probe(head, total_bytes=len(data), max_pixels=CAP) is None


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (images.png_claiming(100_000, 100_000), "100000x100000"),
        (images.jpeg_claiming(60_000, 60_000), "60000x60000"),
        (images.tiff_claiming(4_000_000_000, 1_000_000), "4000000000x1000000"),
        (images.webp_claiming(16384, 16384), "16384x16384"),
        (images.gif_screen_bomb(), "65535x65535"),
    ],
)
def test_tiny_files_claiming_huge_sizes_are_refused_from_the_header(data: bytes, detail: str) -> None:
    for call in (
        lambda: probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP),
        lambda: render(data, [spec(100)], max_pixels=CAP),
    ):
        with pytest.raises(ImageRejected) as exc:
            call()
        assert exc.value.reason == "too-many-pixels" and detail in exc.value.detail


def test_probe_uses_our_cap_not_pillows_and_emits_no_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    filters = list(warnings.filters)
    data = images.png_claiming(12_000, 12_000)  # 144 MP: over Pillow's default cap, under ours
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        facts = probe(data, total_bytes=len(data), max_pixels=200_000_000)
        renditions = render(images.save(photo(64, 48), "PNG"), [spec(32)], max_pixels=CAP)
    assert facts is not None and (facts.width, facts.height) == (12_000, 12_000)
    assert renditions[0].width == 32
    assert caught == []
    assert Image.MAX_IMAGE_PIXELS == 1000
    assert warnings.filters == filters


def test_probe_truncated_when_whole_object_holds_no_complete_header() -> None:
    data = images.jpeg_with_big_exif(photo(64, 48))[:5000]
    with pytest.raises(ImageRejected) as exc:
        probe(data, total_bytes=len(data), max_pixels=CAP)
    assert exc.value.reason == "truncated"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (images.png_claiming(0, 10), "zero-dimensions"),
        (images.png_claiming(64, 48, crc_ok=False), "corrupt"),
        (b"\x89PNG\r\n\x1a\n" + images.png_chunk(b"IDAT", b"x" * 20), "corrupt"),
        (b"\xff\xd8\xff\xe0\x00\x01JFIF" + bytes(40), "corrupt"),
        (images.jpeg_without_frame(), "corrupt"),
    ],
)
def test_probe_and_render_share_one_header_check(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as probed:
        probe(data, total_bytes=len(data), max_pixels=CAP)
    with pytest.raises(ImageRejected) as rendered:
        render(data, [spec(10)], max_pixels=CAP)

    # Pillow's "cannot identify" message names the reader object, address and all.
    def unaddressed(exc: ImageRejected) -> tuple[str, str]:
        return exc.reason, re.sub(r" at 0x[0-9a-f]+", "", exc.detail)

    assert unaddressed(probed.value) == unaddressed(rendered.value)
    assert probed.value.reason == reason


def test_probe_never_decodes_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("probe decoded pixels")

    formats = ("JPEG", "PNG", "GIF", "TIFF", "BMP", "WEBP") + (("AVIF",) if "avif" in pillow.READERS else ())
    sources = [images.save(photo(80, 60), fmt) for fmt in formats]
    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)
    monkeypatch.setattr(Image, "_getdecoder", refuse)
    for data in sources:
        facts = probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP)
        assert facts is not None and (facts.width, facts.height) == (80, 60)


def test_module_attribute_calls_keep_working() -> None:
    """Handlers call ``imaging.render``/``imaging.probe`` through the package, so tests can patch them."""
    assert imaging.render is render and imaging.probe is probe and imaging.sniff is sniff
    assert imaging.HEADER_BYTES == 64 * 1024
