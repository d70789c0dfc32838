"""isobmff: a HEIF's primary image from its meta box, checked against files pillow-heif's encoder wrote.

The header decides what the pixel cap sees: the primary image (turned by irot), the largest
image libheif must allocate for it (a tile, a grid canvas), never a thumbnail item. Bombs are
refused by name before any decoder runs.
"""

from __future__ import annotations

import ast
import struct
from pathlib import Path

import pytest
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import containers, isobmff
from thumbnailer.imaging.headers import NeedMore

from tests import images

REPO = Path(__file__).resolve().parents[4]


def test_parses_no_pil() -> None:
    tree = ast.parse((REPO / "functions/thumbnailer/imaging/isobmff.py").read_text(encoding="utf-8"))
    names = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    names |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert not any(name and name.split(".")[0] == "PIL" for name in names)


@pytest.mark.parametrize("size", [(77, 41), (41, 77), (1, 1), (600, 400)])
def test_size_depth_and_chroma_are_what_the_encoder_wrote(size: tuple[int, int]) -> None:
    header = isobmff.heif_header(images.heic(images.photo(*size)))
    assert (header.size, header.depth, header.chroma) == (size, 8, "420")
    # the coded image is padded to the encoder's block size, then cropped (clap): libheif
    # allocates the padded one, which is what the cap and the cost model must see
    assert size[0] <= header.largest[0] < size[0] + 64 and size[1] <= header.largest[1] < size[1] + 64
    assert (header.kind, header.frames, header.alpha) == ("hvc1", 1, False)
    assert (header.rotation, header.mirror) == (0, None)


@pytest.mark.parametrize(
    ("orientation", "rotation", "mirror"),
    [(1, 0, None), (2, 0, 1), (3, 2, None), (4, 0, 0), (5, 3, 1), (6, 3, None), (7, 3, 0), (8, 1, None)],
)
def test_exif_orientation_is_written_as_irot_and_imir_and_the_size_is_turned(
    orientation: int, rotation: int, mirror: int | None
) -> None:
    """pillow-heif's encoder stores the pixels as they came and the orientation as irot/imir."""
    header = isobmff.heif_header(images.oriented_heic(orientation))
    assert (header.rotation, header.mirror) == (rotation, mirror)
    assert header.size == (480, 320)  # upright, whatever the stored pixels are


def test_a_grid_is_its_canvas_and_its_tiles_are_not_frames() -> None:
    data = images.heic(images.quadrants(600, 400), tile_size=256)
    header = isobmff.heif_header(data)
    assert (header.kind, header.size, header.largest, header.frames) == ("grid", (600, 400), (600, 400), 1)
    assert header.items == 7  # the grid and its 3 x 2 tiles


def test_colour_comes_from_colr_as_an_icc_profile_or_nclx_code_points() -> None:
    icc = isobmff.heif_header(images.heic(images.quadrants(64, 48), icc_profile=images.SWAPPED_ICC))
    assert (icc.icc, icc.nclx) == (images.SWAPPED_ICC, None)
    p3 = images.heic(
        images.quadrants(64, 48), color_primaries=12, transfer_characteristics=13, matrix_coefficients=6,
        full_range_flag=1,
    )  # fmt: skip
    assert isobmff.heif_header(p3).nclx == (12, 13, 6, True)


def test_alpha_grey_and_ten_bits_are_read_from_the_items() -> None:
    assert isobmff.heif_header(images.heic_alpha()).alpha
    assert isobmff.heif_header(images.heic(images.quadrants(64, 48).convert("L"))).chroma == "400"
    assert isobmff.heif_header(images.heic_10bit()).depth == 10


@pytest.mark.parametrize("primary", [0, 1])
def test_a_collection_counts_its_images_and_the_primary_is_pitm(primary: int) -> None:
    header = isobmff.heif_header(images.heic_sequence(primary))
    assert (header.frames, header.size) == (3, (320, 240))  # the quadrants, wherever they are


def test_a_thumbnail_item_never_counts_even_when_it_claims_a_bomb() -> None:
    data = images.heic(images.photo(320, 240), thumbnails=[64])
    bomb = images.heic_patched(data, b"ispe", 4, struct.pack(">II", 60_000, 60_000), nth=1)
    for each in (data, bomb):
        header = isobmff.heif_header(each)
        assert (header.size, header.largest, header.frames, header.items) == ((320, 240), (320, 240), 1, 2)


def test_a_tile_or_canvas_larger_than_the_image_is_what_the_cap_sees() -> None:
    grid = images.heic(images.quadrants(600, 400), tile_size=256)
    tile = images.heic_patched(grid, b"ispe", 4, struct.pack(">II", 30_000, 30_000), nth=1)
    assert isobmff.heif_header(tile).largest == (30_000, 30_000)
    canvas = images.heic_patched(grid, b"idat", 4, struct.pack(">HH", 30_000, 20_000))
    assert isobmff.heif_header(canvas).largest == (30_000, 20_000)
    assert isobmff.heif_header(canvas).size == (600, 400)  # what the image says it is


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        (lambda: images.heic_with_boxes(b"free", isobmff.MAX_BOXES), "too-many-boxes"),
        (lambda: images.heic_with_items(isobmff.MAX_ITEMS), "too-many-items"),
    ],
)
def test_box_and_item_bombs_are_refused_by_name(build: object, reason: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        isobmff.heif_header(build())  # type: ignore[operator]
    assert exc.value.reason == reason and "more than" in exc.value.detail


def test_real_counts_stay_under_the_caps() -> None:
    assert isobmff.heif_header(images.heic_with_boxes(b"free", 100)).size == (64, 48)
    assert isobmff.heif_header(images.heic_with_items(500)).items == 501  # and the image


def test_too_many_references_are_refused() -> None:
    data = images.heic(images.quadrants(64, 48))
    iref = struct.pack(">I", 8 + 2 + 2 + 2 * 5000) + b"dimg" + struct.pack(">HH", 1, 5000) + bytes(10_000)
    box = struct.pack(">I", 12 + len(iref)) + b"iref" + bytes(4) + iref
    meta = data.index(b"meta") - 4
    size = int.from_bytes(data[meta : meta + 4], "big")
    patched = data[:meta] + struct.pack(">I", size + len(box)) + data[meta + 4 : meta + size] + box
    with pytest.raises(ImageRejected) as exc:
        isobmff.heif_header(patched + data[meta + size :])
    assert exc.value.reason == "too-many-references"


def test_a_meta_box_cut_short_asks_for_more() -> None:
    data = images.heic(images.quadrants(64, 48))
    end = isobmff.heif_header(data).end
    assert isobmff.heif_header(data[:end]).size == (64, 48)
    for cut in (10, 40, end - 1):
        with pytest.raises(NeedMore):
            isobmff.heif_header(data[:cut])


@pytest.mark.parametrize(
    ("data", "reason", "detail"),
    [
        (images.heic(images.quadrants(64, 48)).replace(b"hvc1", b"avc1", 1), "unsupported-format", "'avc1'"),
        (
            b"\x00\x00\x00\x14ftypmsf1" + bytes(4) + b"msf1" + b"\x00\x00\x00\x10moov" + bytes(8),
            "unsupported-format",
            "sequence without a still image",
        ),
        (images.heic(images.quadrants(64, 48)).replace(b"pitm", b"xitm"), "corrupt", "no primary item"),
        (images.heic(images.quadrants(64, 48)).replace(b"ispe", b"xspe"), "corrupt", "no size (ispe)"),
    ],
)
def test_what_libheif_could_not_show_is_refused_by_name(data: bytes, reason: str, detail: str) -> None:
    with pytest.raises(ImageRejected) as exc:
        isobmff.heif_header(data)
    assert exc.value.reason == reason and detail in exc.value.detail


def test_brands_tell_heif_from_avif() -> None:
    assert isobmff.is_heif(images.heic(images.quadrants(16, 16)))
    assert isobmff.is_heif(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1miaf")
    assert not isobmff.is_heif(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf")
    assert not isobmff.is_heif(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")


def test_layout_reads_a_heif_through_the_iso_container_parser() -> None:
    """``containers.avif_header`` serves both: for a HEIF, the largest image libheif allocates."""
    grid = images.heic(images.quadrants(600, 400), tile_size=256)
    tile = images.heic_patched(grid, b"ispe", 4, struct.pack(">II", 30_000, 30_000), nth=1)
    assert containers.avif_header(grid) == containers.AvifHeader((600, 400), 8, "420")
    assert containers.avif_header(tile).size == (30_000, 30_000)
