"""HEIF (HEIC) items from the ``meta`` box: the primary image's size, transforms, depth and colour.

A HEIF file is a set of items (images, grid tiles, thumbnails, an alpha plane, EXIF...)
described by its ``meta`` box: ``pitm`` names the item shown (the primary image), ``iinf``
types every item, ``iref`` links them (a grid to its tiles, an alpha plane to its image),
and ``ipma`` associates each with properties kept in ``ipco``: ``ispe`` (size), ``clap``,
``irot`` and ``imir`` (crop, rotation, mirror, applied in that order), ``pixi``/``hvcC``
(depth, chroma) and ``colr`` (an ICC profile or nclx code points).

libheif decodes the primary image only, with its tiles and alpha plane, never a thumbnail
item, so those are what the pixel cap and the cost model see: ``largest`` is the biggest
image it must allocate (a tile or alpha plane claiming more than the image is a bomb).
The walk is bounded: boxes, items and references are counted and refused by name past
their cap, and only the fixed paths meta/iinf, meta/iref, meta/iprp/ipco are descended.
No PIL here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ImageRejected
from .headers import MAX_HEADER_END, NeedMore, _corrupt, _u16be, _u32be

MAX_BOXES = 4096
"""Boxes walked in a HEIF header (a 48 MP phone photo has ~400: 192 tiles and their entries)."""
MAX_ITEMS = 1000
"""Items in a HEIF file: libheif's own default limit, refused here by name before it sees them."""
MAX_REFERENCES = 4 * MAX_ITEMS
"""Item references (grid to tiles, alpha and thumbnails to their image) in ``iref``."""
ALPHA_TYPES = frozenset({b"urn:mpeg:hevc:2015:auxid:1", b"urn:mpeg:mpegB:cicp:systems:auxiliary:alpha"})
CODED_TYPES = frozenset({b"hvc1"})  # what the bundled libheif decodes (libde265)
DERIVED_TYPES = frozenset({b"grid", b"iden", b"iovl"})  # images made from other images
_CHROMA = {0: "400", 1: "420", 2: "422", 3: "444"}
HEIF_BRANDS = frozenset(
    {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"hevm", b"hevs", b"mif1", b"msf1", b"mif2"}
)


def _too_many(what: str, cap: int) -> ImageRejected:
    return ImageRejected(f"too-many-{what}", f"HEIF has more than {cap} {what} in its header")


@dataclass
class _Item:
    kind: bytes = b""
    hidden: bool = False
    properties: list[int] = field(default_factory=list)  # 1-based indices into ipco, in order
    location: tuple[int, int, int] | None = None  # (construction method, offset, length)


@dataclass(frozen=True)
class HeifHeader:
    """What the meta box says about the primary image, before libheif sees a byte."""

    size: tuple[int, int]  # the primary image as decoded: cropped (clap), turned (irot)
    largest: tuple[int, int]  # the largest image the decoder allocates for it (the pixel cap's)
    depth: int  # bits per channel (pixi, else hvcC)
    chroma: str  # "400", "420", "422" or "444" (hvcC)
    alpha: bool  # an alpha plane goes with the primary image
    icc: bytes | None  # colr 'prof' or 'rICC'
    nclx: tuple[int, int, int, bool] | None  # colr 'nclx': primaries, transfer, matrix, full range
    rotation: int  # irot: quarter turns anticlockwise
    mirror: int | None  # imir's bit as stored: libheif flips top and bottom for 0, left and right for 1
    kind: str  # the primary item's type: hvc1, grid, iden or iovl
    frames: int  # top-level images (a collection or burst); only the primary is rendered
    items: int
    end: int  # where the meta box ends: all the header there is


class _Walk:
    """One bounded pass over the boxes of ``b``; NeedMore when a box runs past its end."""

    def __init__(self, b: bytes) -> None:
        self.b = b
        self.boxes = 0
        self.items: dict[int, _Item] = {}
        self.refs: dict[bytes, list[tuple[int, list[int]]]] = {}
        self.references = 0
        self.properties: list[tuple[bytes, int, int]] = []  # (kind, body start, body end)
        self.primary: int | None = None
        self.idat: tuple[int, int] | None = None

    def children(self, start: int, end: int) -> list[tuple[bytes, int, int]]:
        """(kind, body start, box end) of each box in b[start:end], counted against MAX_BOXES."""
        out, i = [], start
        while i + 8 <= end:
            self.boxes += 1
            if self.boxes > MAX_BOXES:
                raise _too_many("boxes", MAX_BOXES)
            size, kind, header = _u32be(self.b, i), self.b[i + 4 : i + 8], 8
            if size == 1:
                if i + 16 > end:
                    raise _corrupt(f"HEIF box {kind!r} is cut short")
                size, header = int.from_bytes(self.b[i + 8 : i + 16], "big"), 16
            elif size == 0:
                size = end - i
            if size < header or i + size > end:
                raise _corrupt(f"HEIF box {kind!r} has size {size}, outside its parent")
            out.append((kind, i + header, i + size))
            i += size
        return out

    def meta(self, body: int, end: int) -> None:
        for kind, start, stop in self.children(body + 4, end):  # meta is a full box
            if kind == b"pitm":
                self.primary = _u16be(self.b, start + 4) if self.b[start] == 0 else _u32be(self.b, start + 4)
            elif kind == b"iinf":
                self.iinf(start, stop)
            elif kind == b"iref":
                self.iref(start, stop)
            elif kind == b"iprp":
                for sub, s, e in self.children(start, stop):
                    if sub == b"ipco":
                        self.properties += self.children(s, e)
                    elif sub == b"ipma":
                        self.ipma(s, e)
            elif kind == b"iloc":
                self.iloc(start, stop)
            elif kind == b"idat":
                self.idat = (start, stop)

    def item(self, item_id: int) -> _Item:
        if item_id not in self.items:
            if len(self.items) >= MAX_ITEMS:
                raise _too_many("items", MAX_ITEMS)
            self.items[item_id] = _Item()
        return self.items[item_id]

    def iinf(self, start: int, stop: int) -> None:
        count = _u16be(self.b, start + 4) if self.b[start] == 0 else _u32be(self.b, start + 4)
        if count > MAX_ITEMS:
            raise _too_many("items", MAX_ITEMS)
        first = start + (6 if self.b[start] == 0 else 8)
        for kind, s, _ in self.children(first, stop):
            if kind != b"infe" or self.b[s] < 2:
                continue  # versions 0 and 1 carry no item type: not images
            version, hidden = self.b[s], bool(self.b[s + 3] & 1)
            item_id = _u16be(self.b, s + 4) if version == 2 else _u32be(self.b, s + 4)
            at = s + (8 if version == 2 else 10)
            entry = self.item(item_id)
            entry.kind, entry.hidden = self.b[at : at + 4], hidden

    def iref(self, start: int, stop: int) -> None:
        wide = self.b[start] != 0
        for kind, s, e in self.children(start + 4, stop):
            source = _u32be(self.b, s) if wide else _u16be(self.b, s)
            at = s + (4 if wide else 2)
            count = _u16be(self.b, at)
            self.references += count
            if self.references > MAX_REFERENCES:
                raise _too_many("references", MAX_REFERENCES)
            step = 4 if wide else 2
            if at + 2 + count * step > e:
                raise _corrupt(f"HEIF reference {kind!r} runs past its box")
            read = _u32be if wide else _u16be
            targets = [read(self.b, at + 2 + n * step) for n in range(count)]
            self.refs.setdefault(kind, []).append((source, targets))

    def ipma(self, start: int, stop: int) -> None:
        version, wide = self.b[start], bool(self.b[start + 3] & 1)
        count, at = _u32be(self.b, start + 4), start + 8
        if count > MAX_ITEMS:
            raise _too_many("items", MAX_ITEMS)
        for _ in range(count):
            item_id = _u16be(self.b, at) if version < 1 else _u32be(self.b, at)
            at += 2 if version < 1 else 4
            if at >= stop:
                raise _corrupt("HEIF property associations run past their box")
            n, at = self.b[at], at + 1
            entry = self.item(item_id)
            for _ in range(n):
                index = (_u16be(self.b, at) & 0x7FFF) if wide else (self.b[at] & 0x7F)
                at += 2 if wide else 1
                if index:
                    entry.properties.append(index)
            if at > stop:
                raise _corrupt("HEIF property associations run past their box")

    def iloc(self, start: int, stop: int) -> None:
        """Where each item's data is (first extent only): enough to read a grid's canvas size."""
        b, version = self.b, self.b[start]
        sizes = _u16be(b, start + 4)
        offset_size, length_size, base_size = sizes >> 12, (sizes >> 8) & 15, (sizes >> 4) & 15
        index_size = sizes & 15 if version in (1, 2) else 0
        count = _u32be(b, start + 6) if version == 2 else _u16be(b, start + 6)
        at = start + (10 if version == 2 else 8)
        if count > MAX_ITEMS:
            raise _too_many("items", MAX_ITEMS)

        def number(width: int) -> int:
            nonlocal at
            if at + width > stop:
                raise _corrupt("HEIF item locations run past their box")
            value = int.from_bytes(b[at : at + width], "big")
            at += width
            return value

        for _ in range(count):
            item_id = number(4 if version == 2 else 2)
            method = number(2) & 15 if version in (1, 2) else 0
            number(2)  # data reference index
            base = number(base_size)
            extents = number(2)
            first: tuple[int, int] | None = None
            for _ in range(extents):
                number(index_size)
                offset, length = number(offset_size), number(length_size)
                first = first or (base + offset, length)
                self.boxes += 1
                if self.boxes > MAX_BOXES:
                    raise _too_many("boxes", MAX_BOXES)
            if first is not None:
                self.item(item_id).location = (method, *first)

    def property(self, item: _Item, kind: bytes) -> tuple[int, int] | None:
        """(body start, end) of the first property of ``kind`` associated with ``item``."""
        for index in item.properties:
            if 0 < index <= len(self.properties) and self.properties[index - 1][0] == kind:
                return self.properties[index - 1][1:]
        return None

    def extent(self, item: _Item) -> tuple[int, int]:
        """(width, height) from the item's ispe."""
        found = self.property(item, b"ispe")
        if found is None or found[0] + 12 > found[1]:
            raise _corrupt(f"HEIF {item.kind.decode('latin-1')} image has no size (ispe)")
        return _u32be(self.b, found[0] + 4), _u32be(self.b, found[0] + 8)

    def canvas(self, item: _Item) -> tuple[int, int] | None:
        """A grid's or overlay's output size, from its item data (in idat or the file)."""
        if item.location is None:
            return None
        method, offset, length = item.location
        if method == 1 and self.idat is not None:
            offset += self.idat[0]
        elif method != 0:
            return None
        data = self.b[offset : offset + min(length, 64)]
        if len(data) < min(length, 8):
            raise NeedMore
        wide = len(data) > 1 and data[1] & 1
        at = 4 if item.kind == b"grid" else 12  # iovl: version, flags, then a 4 x 16-bit fill colour
        need = at + (8 if wide else 4)
        if len(data) < need:
            raise _corrupt(f"HEIF {item.kind.decode('latin-1')} description is too short")
        if wide:
            return _u32be(data, at), _u32be(data, at + 4)
        return _u16be(data, at), _u16be(data, at + 2)


def is_heif(b: bytes) -> bool:
    """Whether the ftyp brands make ``b`` a HEIF still image rather than an AVIF (checked first)."""
    if b[4:8] != b"ftyp":
        return False
    size = int.from_bytes(b[:4], "big")
    brands = {b[8:12], *(b[i : i + 4] for i in range(16, min(len(b), max(size, 16)) - 3, 4))}
    return not {b"avif", b"avis"} & brands and bool(HEIF_BRANDS & brands)


def heif_header(b: bytes) -> HeifHeader:
    """Walk ftyp .. meta of a HEIF prefix; NeedMore while the meta box runs past ``b``."""
    walk = _Walk(b)
    i, saw_moov = 0, False
    while True:
        if i + 8 > len(b):
            if saw_moov and i == len(b):
                raise ImageRejected("unsupported-format", "heif image sequence without a still image")
            raise NeedMore
        size, kind = _u32be(b, i), b[i + 4 : i + 8]
        header = 8
        if size == 1:
            if i + 16 > len(b):
                raise NeedMore
            size, header = int.from_bytes(b[i + 8 : i + 16], "big"), 16
        elif size == 0:
            size = len(b) - i
        if size < header:
            raise _corrupt(f"HEIF box {kind!r} has size {size}")
        walk.boxes += 1
        if walk.boxes > MAX_BOXES:
            raise _too_many("boxes", MAX_BOXES)
        if kind == b"meta":
            if i + header > MAX_HEADER_END:
                raise ImageRejected("header-too-large", f"HEIF meta box starts past {MAX_HEADER_END} bytes")
            if i + size > len(b):
                raise NeedMore
            walk.meta(i + header, i + size)
            return _resolve(walk, i + size)
        saw_moov = saw_moov or kind == b"moov"
        i += size


def _resolve(walk: _Walk, end: int) -> HeifHeader:
    """The primary image, its inputs and alpha plane, from what the walk collected."""
    if walk.primary is None:
        raise _corrupt("HEIF has no primary item (pitm)")
    primary = walk.items.get(walk.primary)
    if primary is None or not primary.kind:
        raise _corrupt(f"HEIF primary item {walk.primary} is not described (iinf)")
    name = primary.kind.decode("latin-1").strip()
    if primary.kind not in CODED_TYPES | DERIVED_TYPES:
        raise ImageRejected("unsupported-format", f"heif with {name!r} images")
    refs = {kind: {source: targets for source, targets in entries} for kind, entries in walk.refs.items()}
    inputs: list[_Item] = []
    if primary.kind in DERIVED_TYPES:
        ids = refs.get(b"dimg", {}).get(walk.primary, [])
        if not ids:
            raise _corrupt(f"HEIF {name} image has no input images (dimg)")
        for item_id in ids:
            tile = walk.items.get(item_id)
            if tile is None or tile.kind not in CODED_TYPES:
                kind = tile.kind.decode("latin-1") if tile else "missing"
                raise ImageRejected("unsupported-format", f"heif {name} of {kind!r} images")
            inputs.append(tile)
    alphas = [
        walk.items[source]
        for source, targets in refs.get(b"auxl", {}).items()
        if walk.primary in targets and source in walk.items and _is_alpha(walk, walk.items[source])
    ]
    stored = walk.extent(primary)
    decoded = [stored, *(walk.extent(t) for t in inputs[:1]), *(walk.extent(a) for a in alphas)]
    decoded += [walk.extent(t) for t in inputs[1:]]  # each tile is allocated as it is decoded
    if primary.kind in DERIVED_TYPES and (canvas := walk.canvas(primary)) is not None:
        decoded.append(canvas)
    size, rotation, mirror = _transformed(walk, primary, stored)
    biggest = max(decoded, key=lambda s: s[0] * s[1])
    largest = size if biggest[0] * biggest[1] <= size[0] * size[1] else biggest
    coded = inputs[0] if inputs else primary
    depth, chroma = _coding(walk, primary, coded)
    icc, nclx = _colour(walk, primary) or _colour(walk, coded) or (None, None)
    thumbs = {source for source, _ in walk.refs.get(b"thmb", [])}
    parts = {t for _, targets in walk.refs.get(b"dimg", []) for t in targets}
    auxiliary = {source for source, _ in walk.refs.get(b"auxl", [])}
    frames = sum(
        1
        for item_id, item in walk.items.items()
        if item.kind in CODED_TYPES | DERIVED_TYPES
        and not item.hidden
        and item_id not in thumbs | parts | auxiliary
    )
    return HeifHeader(
        size, largest, depth, chroma, bool(alphas), icc, nclx, rotation, mirror, name, max(frames, 1),
        len(walk.items), end,
    )  # fmt: skip


def _is_alpha(walk: _Walk, item: _Item) -> bool:
    found = walk.property(item, b"auxC")
    if found is None:
        return False
    urn = walk.b[found[0] + 4 : found[1]].split(b"\x00", 1)[0]
    return urn in ALPHA_TYPES


def _transformed(
    walk: _Walk, item: _Item, stored: tuple[int, int]
) -> tuple[tuple[int, int], int, int | None]:
    """The size after the item's transforms in association order, its rotation and mirror axis."""
    b, (width, height), rotation, mirror = walk.b, stored, 0, None
    for index in item.properties:
        if not 0 < index <= len(walk.properties):
            continue
        kind, start, stop = walk.properties[index - 1]
        if kind == b"clap" and start + 32 <= stop:
            fields = [_u32be(b, start + 4 * n) for n in range(8)]
            if fields[1] == 0 or fields[3] == 0:
                raise _corrupt("HEIF clean aperture has a zero denominator")
            width = max(1, min(width, fields[0] // fields[1]))
            height = max(1, min(height, fields[2] // fields[3]))
        elif kind == b"irot" and start < stop:
            rotation = b[start] & 3
            if rotation % 2:
                width, height = height, width
        elif kind == b"imir" and start < stop:
            mirror = b[start] & 1
    return (width, height), rotation, mirror


def _coding(walk: _Walk, item: _Item, coded: _Item) -> tuple[int, str]:
    """(bits per channel, chroma) from pixi and hvcC (the first tile's, for a grid)."""
    b, depth, chroma = walk.b, 8, "420"
    hvcc = walk.property(coded, b"hvcC")
    if hvcc is not None and hvcc[0] + 19 <= hvcc[1]:
        chroma = _CHROMA[b[hvcc[0] + 16] & 3]
        depth = 8 + (b[hvcc[0] + 17] & 7)
    pixi = walk.property(item, b"pixi") or walk.property(coded, b"pixi")
    if pixi is not None and pixi[0] + 5 < pixi[1] and b[pixi[0] + 4]:
        channels = b[pixi[0] + 4]
        depth = max(b[pixi[0] + 5 : min(pixi[1], pixi[0] + 5 + channels)] or bytes([depth]))
    return depth, chroma


def _colour(walk: _Walk, item: _Item) -> tuple[bytes | None, tuple[int, int, int, bool] | None] | None:
    """(ICC profile, nclx) of the item's colr properties, or None when it has neither."""
    b, icc, nclx = walk.b, None, None
    for index in item.properties:
        if not 0 < index <= len(walk.properties) or walk.properties[index - 1][0] != b"colr":
            continue
        _, start, stop = walk.properties[index - 1]
        kind = b[start : start + 4]
        if kind in (b"prof", b"rICC") and icc is None:
            icc = b[start + 4 : stop]
        elif kind == b"nclx" and nclx is None and start + 11 <= stop:
            codes = (_u16be(b, start + 4), _u16be(b, start + 6), _u16be(b, start + 8))
            nclx = (*codes, bool(b[start + 10] & 0x80))
    return (icc, nclx) if icc is not None or nclx is not None else None
