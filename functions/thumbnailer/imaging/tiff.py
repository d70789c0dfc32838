"""TIFF's first directory, wherever it is in the file: size, pixel layout and the tables it points to.

A TIFF header is a chain of pointers: libtiff writes the directory after the pixels, at
the end of the file, and scanners write it first with strip tables that run on past any
first read. ``tiff_header`` follows the pointers through a ``Sparse`` view (reading just
those ranges in Validate), checks the counts Pillow would turn into Python tuples
(``too-many-tags``, ``too-many-strips``) and lists every range Pillow's parser will read.
No PIL here.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from ..errors import ImageRejected
from .headers import NeedMore
from .sparse import Sparse

MAX_TAGS = 4096
"""Entries in the first directory: real files have tens; Pillow handles each in Python."""
MAX_STRIPS = 1 << 20
"""Strip or tile offsets: a 100 MP image stored a row per strip has 10,000 to 100,000."""
MAX_PAGES = 10_000
_TYPE_SIZE = {
    1: 1,
    2: 1,
    3: 2,
    4: 4,
    5: 8,
    6: 1,
    7: 1,
    8: 2,
    9: 4,
    10: 8,
    11: 4,
    12: 8,
    13: 4,
    16: 8,
    17: 8,
    18: 8,
}
_UNPACK = {1: "B", 3: "H", 4: "I", 6: "b", 8: "h", 9: "i", 13: "I", 16: "Q", 17: "q", 18: "Q"}
_WIDTH, _LENGTH, _BITS, _COMPRESSION, _PHOTOMETRIC = 256, 257, 258, 259, 262
_STRIP_OFFSETS, _SAMPLES, _ROWS_PER_STRIP, _STRIP_COUNTS, _PLANAR = 273, 277, 278, 279, 284
_TILE_WIDTH, _TILE_LENGTH, _TILE_OFFSETS, _TILE_COUNTS, _SAMPLE_FORMAT = 322, 323, 324, 325, 339


@dataclass(frozen=True)
class TiffHeader:
    """The first page as its directory describes it."""

    size: tuple[int, int]
    pages: int  # a lower bound: directories found without reading further
    bits: int  # per sample
    samples: int
    sample_format: int  # 1 unsigned, 2 signed, 3 float
    compression: int
    photometric: int
    planar: int
    tiled: bool
    strips: int  # strip or tile offsets
    strip_bytes: int  # decoded bytes of the largest strip or tile: what libtiff buffers
    tags: int
    extents: tuple[tuple[int, int], ...]  # (offset, size): the directory and every value out of line
    end: int  # the furthest byte of the header


def _corrupt(detail: str) -> ImageRejected:
    return ImageRejected("corrupt", detail)


class _Directory:
    """One directory's entries, values read through the view on demand."""

    def __init__(self, view: Sparse, endian: str, big: bool, offset: int) -> None:
        self.view, self.endian, self.big = view, endian, big
        count_size, self.entry = (8, 20) if big else (2, 12)
        raw = view.read(offset, count_size)
        if len(raw) < count_size:
            raise NeedMore  # past the end: a file cut short (truncated, once it is all there)
        (self.count,) = struct.unpack(endian + ("Q" if big else "H"), raw)
        if self.count > MAX_TAGS:
            raise ImageRejected(
                "too-many-tags", f"TIFF first directory has {self.count} entries, more than {MAX_TAGS}"
            )
        size = count_size + self.count * self.entry + (8 if big else 4)
        self.raw = view.read(offset + count_size, size - count_size)
        if len(self.raw) < size - count_size:
            raise NeedMore
        self.extent = (offset, size)
        self.tags: dict[int, tuple[int, int, bytes]] = {}  # tag -> (type, count, inline value or offset)
        for n in range(self.count):
            at = n * self.entry
            tag, kind = struct.unpack_from(endian + "HH", self.raw, at)
            (count,) = struct.unpack_from(endian + ("Q" if big else "I"), self.raw, at + 4)
            value = self.raw[at + (12 if big else 8) : at + self.entry]
            self.tags.setdefault(tag, (kind, count, value))
        (self.next,) = struct.unpack_from(endian + ("Q" if big else "I"), self.raw, self.count * self.entry)

    def out_of_line(self, tag: int) -> tuple[int, int] | None:
        """(offset, size) of a value stored elsewhere in the file, None when it is inline or unknown."""
        kind, count, value = self.tags[tag]
        size = _TYPE_SIZE.get(kind, 0) * count
        if size <= (8 if self.big else 4):
            return None
        (offset,) = struct.unpack(self.endian + ("Q" if self.big else "I"), value)
        return offset, size

    def first(self, tag: int, default: int) -> int:
        """The first value of an integer tag."""
        if tag not in self.tags:
            return default
        kind, count, value = self.tags[tag]
        fmt = _UNPACK.get(kind)
        if fmt is None or count == 0:
            raise _corrupt(f"TIFF tag {tag} has type {kind}")
        where = self.out_of_line(tag)
        if where is not None:
            value = self.view.read(where[0], struct.calcsize(fmt))
        if len(value) < struct.calcsize(fmt):
            raise NeedMore
        return int(struct.unpack_from(self.endian + fmt, value)[0])


def tiff_header(view: Sparse) -> TiffHeader:
    """The first directory and the ranges it points to; NeedMore when the view cannot supply them."""
    head = view.read(0, 16)
    if len(head) < 16:
        raise NeedMore
    endian = "<" if head[:2] == b"II" else ">"
    big = struct.unpack_from(endian + "H", head, 2)[0] == 43
    (offset,) = struct.unpack_from(endian + ("Q" if big else "I"), head, 8 if big else 4)
    if offset < 8:
        raise _corrupt(f"TIFF IFD offset {offset} points into the header")
    ifd = _Directory(view, endian, big, offset)
    if _WIDTH not in ifd.tags or _LENGTH not in ifd.tags:
        raise _corrupt("TIFF first page has no width/height")
    for tag in (_WIDTH, _LENGTH):
        if ifd.tags[tag][0] not in (3, 4, 16):
            raise _corrupt(f"TIFF dimension tag {tag} has type {ifd.tags[tag][0]}")
    width, height = ifd.first(_WIDTH, 0), ifd.first(_LENGTH, 0)
    samples = ifd.first(_SAMPLES, 1)
    bits = ifd.first(_BITS, 1)
    planar = ifd.first(_PLANAR, 1)
    tiled = _TILE_OFFSETS in ifd.tags
    strips = ifd.tags.get(_TILE_OFFSETS if tiled else _STRIP_OFFSETS, (0, 0, b""))[1]
    planes = samples if planar == 2 else 1
    if tiled:
        tile = (max(1, ifd.first(_TILE_WIDTH, 1)), max(1, ifd.first(_TILE_LENGTH, 1)))
        expected = math.ceil(width / tile[0]) * math.ceil(height / tile[1]) * planes
        strip_pixels = tile[0] * tile[1]
    else:
        rows = min(max(1, ifd.first(_ROWS_PER_STRIP, height or 1)), max(1, height))
        expected = math.ceil(height / rows) * planes
        strip_pixels = rows * width
    if strips > MAX_STRIPS or strips > 2 * expected + 64:
        raise ImageRejected(
            "too-many-strips",
            f"TIFF lists {strips} {'tile' if tiled else 'strip'} offsets for an image of {expected}"
            f" (at most {MAX_STRIPS} are read)",
        )
    extents = [ifd.extent]
    for tag in ifd.tags:
        where = ifd.out_of_line(tag)
        if where is not None:
            extents.append(where)
    return TiffHeader(
        size=(width, height),
        pages=_pages(view, endian, big, ifd.next),
        bits=bits,
        samples=samples,
        sample_format=ifd.first(_SAMPLE_FORMAT, 1),
        compression=ifd.first(_COMPRESSION, 1),
        photometric=ifd.first(_PHOTOMETRIC, 1),
        planar=planar,
        tiled=tiled,
        strips=strips,
        strip_bytes=strip_pixels * (1 if planar == 2 else samples) * max(1, bits) // 8,
        tags=ifd.count,
        extents=tuple(extents),
        end=max(at + size for at, size in extents),
    )


def _pages(view: Sparse, endian: str, big: bool, offset: int) -> int:
    """1 + the directories chained after the first that the view already holds (never fetched)."""
    pages, seen = 1, set()
    count_fmt, entry = ("Q", 20) if big else ("H", 12)
    count_size = struct.calcsize(count_fmt)
    while offset and offset not in seen and pages < MAX_PAGES and view.has(offset, count_size):
        seen.add(offset)
        (count,) = struct.unpack(endian + count_fmt, view.read(offset, count_size))
        link = offset + count_size + count * entry
        if not view.has(link, 8 if big else 4):
            pages += 1
            break
        pages += 1
        (offset,) = struct.unpack(endian + ("Q" if big else "I"), view.read(link, 8 if big else 4))
    return pages


def fetch_tables(view: Sparse, header: TiffHeader) -> None:
    """Read every range of the header into the view, so Pillow's parser finds it all there."""
    for offset, size in header.extents:
        if not view.has(offset, size) and offset < view.total:
            view.read(offset, size)


def tiff_ifds(data: bytes) -> tuple[tuple[int, int], int]:
    """Size of the first page and the pages found in ``data`` (a prefix of the file)."""
    header = tiff_header(Sparse.of(data, total=1 << 62))
    return header.size, header.pages
