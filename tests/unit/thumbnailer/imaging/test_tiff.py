"""tiff: the first directory found wherever it is, its tables bounded, read through ranged fetches."""

from __future__ import annotations

import struct

import pytest
from thumbnailer import imaging
from thumbnailer.errors import ImageRejected
from thumbnailer.imaging import HEADER_BYTES, tiff
from thumbnailer.imaging.sparse import Sparse

from tests import images, worstcases
from tests.unit.thumbnailer.imaging.checks import CAP, photo, spec


class Ranges:
    """``fetch`` over a file's bytes, recording what was asked for."""

    def __init__(self, data: bytes) -> None:
        self.data, self.asked = data, []  # type: ignore[var-annotated]

    def __call__(self, first: int, last: int) -> bytes:
        self.asked.append((first, last))
        return self.data[first : last + 1]

    @property
    def bytes(self) -> int:
        return sum(last - first + 1 for first, last in self.asked)


def test_a_directory_at_the_end_is_read_where_it_is() -> None:
    data = images.save(photo(2000, 1500), "TIFF", compression="tiff_lzw")
    (ifd,) = struct.unpack("<I", data[4:8])
    assert ifd > HEADER_BYTES * 4  # libtiff writes the directory after the pixels
    fetch = Ranges(data)
    facts = imaging.probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP, fetch=fetch)
    assert facts is not None and (facts.format, facts.width, facts.height, facts.mode) == (
        "tiff",
        2000,
        1500,
        "RGB",
    )
    assert fetch.asked[0][0] == ifd and len(fetch.asked) <= 2 and fetch.bytes <= 2 * 64 * 1024


def test_strip_tables_past_the_first_read_are_fetched_not_refused() -> None:
    data = worstcases.tiff_first((200, 20_000))  # 160 KB of strip tables right after the directory
    fetch = Ranges(data)
    facts = imaging.probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP, fetch=fetch)
    assert facts is not None and (facts.width, facts.height, facts.mode) == (200, 20_000, "L")
    assert fetch.bytes < 300_000  # the tables, never the pixels
    made = imaging.render(data, [spec(256)], max_pixels=CAP)
    assert (made[0].width, made[0].height) == (3, 256)


def test_layout_of_the_first_page() -> None:
    one_strip = images.save(photo(300, 200), "TIFF", compression="tiff_adobe_deflate", tiffinfo={278: 200})
    page = tiff.tiff_header(Sparse.of(one_strip))
    assert (page.size, page.samples, page.bits, page.compression, page.strips) == ((300, 200), 3, 8, 8, 1)
    assert page.strip_bytes == 300 * 200 * 3  # libtiff decodes the one strip whole
    strips = tiff.tiff_header(Sparse.of(worstcases.tiff_first((50, 40), rows_per_strip=8)))
    assert (strips.strips, strips.strip_bytes, strips.end) == (5, 400, 8 + 2 + 12 * 10 + 4 + 8 * 5)


def test_more_strips_than_the_image_has_rows_are_refused_before_pillow_reads_them() -> None:
    data = worstcases.tiff_strip_offsets(200_000)
    with pytest.raises(ImageRejected) as exc:
        imaging.probe(data[:HEADER_BYTES], total_bytes=len(data), max_pixels=CAP, fetch=Ranges(data))
    assert exc.value.reason == "too-many-strips" and "200000" in exc.value.detail


def test_a_directory_of_more_than_max_tags_entries_is_refused() -> None:
    count = tiff.MAX_TAGS + 1
    ifd = struct.pack("<H", count) + struct.pack("<HHII", 256, 4, 1, 1) * count + struct.pack("<I", 0)
    data = b"II*\x00" + struct.pack("<I", 8) + ifd
    with pytest.raises(ImageRejected) as exc:
        tiff.tiff_header(Sparse.of(data))
    assert exc.value.reason == "too-many-tags"


def test_pages_are_counted_from_what_was_read_only() -> None:
    data = images.multipage_tiff()
    assert tiff.tiff_ifds(data) == ((400, 300), 3)
    assert tiff.tiff_header(Sparse.of(data[:HEADER_BYTES], total=len(data) + 10**6)).pages >= 1
