"""identify: the format from magic bytes alone, and a named reason for everything else."""

from __future__ import annotations

import random

import pytest
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging.identify import as_text, classify_text, format_of

from tests import images
from tests.unit.thumbnailer.imaging.checks import photo


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        ("JPEG", {}),
        ("PNG", {}),
        ("GIF", {}),
        ("WEBP", {}),
        ("WEBP", {"lossless": True}),
        ("TIFF", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
        ("BMP", {}),
        ("AVIF", {}),
    ],
)
def test_names_each_format_from_its_first_bytes(fmt: str, options: dict[str, object]) -> None:
    data = images.save(photo(64, 48), fmt, **options)
    assert format_of(data) == fmt.lower()
    assert format_of(data[:64]) == fmt.lower()  # magic bytes only


def test_heif_is_named_from_its_brands_and_avif_wins_when_both_are_there() -> None:
    """A HEIC is named by its brands; whether its header holds an image is ``isobmff``'s call."""
    assert format_of(images.heic_like()) == "heif"
    assert format_of(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf" + bytes(40)) == "heif"
    assert format_of(images.heic(photo(64, 48))) == "heif"
    assert format_of(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf" + bytes(40)) == "avif"


def tga(mode: str, **options: object) -> bytes:
    return images.save(images.quadrants(40, 30).convert(mode), "TGA", **options)


@pytest.mark.parametrize(
    "data",
    [
        tga("RGB"),  # 00 00 02 00: the start of a CUR file too
        tga("RGBA"),
        tga("L"),
        tga("P"),
        tga("RGB", compression="tga_rle"),
        tga("L", compression="tga_rle"),
        tga("RGB", id_section=b"made by hand"),
    ],
)
def test_a_tga_is_named_tga_not_cur(data: bytes) -> None:
    with pytest.raises(ImageRejected) as exc:
        format_of(data)
    assert (exc.value.reason, exc.value.detail) == ("unsupported-format", "tga")


def test_a_cur_file_is_still_a_cur_file() -> None:
    """CUR: reserved 0, type 2, then a count of images and 16-byte entries."""
    entry = bytes([32, 32, 0, 0, 1, 0, 1, 0]) + bytes.fromhex("e8030000")  # 32x32, 1000 bytes
    cursor = b"\x00\x00\x02\x00\x01\x00" + entry + bytes(60)
    with pytest.raises(ImageRejected) as exc:
        format_of(cursor)
    assert exc.value.detail == "cur"


def test_a_bitmap_without_its_file_header_is_named() -> None:
    """A DIB (what the clipboard holds): the BMP without "BM", its size and its pixel offset."""
    for mode in ("RGB", "P", "1"):
        bitmap = images.save(images.quadrants(40, 30).convert(mode), "BMP")
        with pytest.raises(ImageRejected) as exc:
            format_of(bitmap[14:])
        assert exc.value.reason == "unsupported-format" and exc.value.detail.startswith("dib")


@pytest.mark.parametrize(
    "data",
    [
        b"\xff" * 4096,
        bytes(random.Random(3).randrange(128, 256) for _ in range(4096)),  # no NUL, no control byte
        b"\xff\xfe" + random.Random(1).randbytes(4094),  # a UTF-16 BOM in front of noise
        bytes(random.Random(5).randrange(32, 256) for _ in range(4096)),
    ],
)
def test_binary_noise_is_not_an_image_rather_than_text(data: bytes) -> None:
    with pytest.raises(ImageRejected) as exc:
        format_of(data)
    assert (exc.value.reason, exc.value.detail) == ("not-an-image", "no known image signature")


def test_avif_is_named_whatever_pillow_can_read() -> None:
    """Whether this build reads AVIF is the Pillow layer's question, not the magic bytes'."""
    assert format_of(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf" + bytes(64)) == "avif"
    assert format_of(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avis" + bytes(64)) == "avif"


@pytest.mark.parametrize(
    ("head", "reason"),
    [
        (b"<!doctype html><html><body><svg><circle r='4'/></svg></body></html>", "html"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><!-- <html> --></svg>", "svg"),
        (b"BMW 320d, photos to follow\n", "text"),  # "BM" alone does not make a bitmap
        (b"GIF89 is not quite a GIF header\n", "text"),
    ],
)
def test_judges_by_structure_not_by_words_inside(head: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        format_of(head)
    assert exc.value.reason == reason


@pytest.mark.parametrize(
    ("head", "reason", "detail"),
    [
        (b"", "empty", ""),
        (images.SVG, "svg", ""),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- by hand -->\n'
            b'<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x">\n<svg></svg>',
            "svg",
            "",
        ),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "pdf", ""),
        (b"<!DOCTYPE html>\n<html><head><title>404</title></head></html>", "html", ""),
        (b"  <html>\n<body>Not Found</body></html>", "html", ""),
        (b"hello, this is just a note about a photo \xe2\x98\x83\n", "text", ""),
        (images.TEXT, "text", ""),
        (b'{"error": "AccessDenied"}\n', "text", ""),
        (b'<?xml version="1.0"?><Error><Code>NoSuchKey</Code></Error>', "text", ""),
        (b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x00crx isom" + bytes(40), "unsupported-format", "camera-raw"),
        (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + bytes(40), "not-an-image", "video"),
        (b"8BPS\x00\x01" + bytes(60), "unsupported-format", "psd"),
        (b"\x00\x00\x01\x00\x01\x00\x10\x10" + bytes(60), "unsupported-format", "ico"),
        (b"P6\n64 48\n255\n" + bytes(range(256)) * 4, "unsupported-format", "pnm"),
        (b"#define x_width 8\n#define x_height 8\n", "unsupported-format", "xbm"),
        (bytes(random.Random(7).randbytes(4096)), "not-an-image", "no known image signature"),
        (images.zip_archive(), "not-an-image", "zip"),
        (b"\x1f\x8b\x08\x00" + bytes(60), "not-an-image", "gzip"),
        (images.html_png_polyglot(), "html", "with binary data inside"),
    ],
)
def test_rejections_have_specific_reasons(head: bytes, reason: str, detail: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        format_of(head)
    assert exc.value.reason == reason
    assert detail in exc.value.detail


@pytest.mark.parametrize(
    ("head", "text"),
    [
        (b"plain ascii\n", "plain ascii\n"),
        ("\ufeffUTF-16 text".encode("utf-16-le"), "UTF-16 text"),
        (b"\xfe\xff" + "UTF-16 big".encode("utf-16-be"), "UTF-16 big"),
        (b"\xef\xbb\xbfwith a BOM", "with a BOM"),
        ("cut in the middle: \u2603".encode()[:-1], "cut in the middle: "),  # half a snowman
        ("caf\xe9 au lait".encode("latin-1"), "caf\xe9 au lait"),  # legacy 8-bit text
        (b"NUL\x00inside", None),
        (bytes(range(1, 32)) * 4, None),  # mostly control bytes
        (bytes(range(128, 256)) * 4, None),  # every byte is a latin-1 letter, none is ASCII
        (("\ufeff" + "".join(map(chr, range(1, 32))) * 4).encode("utf-16-le"), None),  # UTF-16 controls
    ],
)
def test_as_text_accepts_only_plausible_text(head: bytes, text: str | None) -> None:
    assert as_text(head) == text


def test_classify_text_looks_past_the_xml_prolog_only() -> None:
    prolog = '<?xml version="1.0"?>\n<!-- drawn by hand -->\n'
    assert classify_text(prolog + "<html><body/></html>")[0] == "html"
    assert classify_text(prolog + "<svg:svg xmlns:svg='x'/>")[0] == "svg"
    assert classify_text(prolog + "<Error><Code>NoSuchKey</Code></Error>")[0] == "text"
    assert classify_text("<!DOCTYPE html><p>hi</p>") == ("html", "looks like an HTML page")
