"""An object's bytes as far as they were read: a prefix, plus windows fetched where a header points.

Most headers sit at the start of the file, but a TIFF may keep its directory at the end
(libtiff writes it after the pixels) and a WebP its EXIF after the image data. ``Sparse``
holds what was read and, given a ``fetch`` callback, reads the missing ranges a parser
asks for, within a budget of bytes and requests, so a header is never found by reading
the whole object. No PIL here; ``Reader`` is the file object Pillow's parsers read through.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import ImageRejected
from .headers import MAX_HEADER_END as MAX_HEADER_BYTES
from .headers import NeedMore

Fetch = Callable[[int, int], bytes]
"""``fetch(first, last)``: the object's bytes first..last (inclusive), like an HTTP Range."""

MAX_FETCHES = 12
"""Windows read past the prefix for one header: a TIFF directory and its tables, WebP's EXIF."""
WINDOW = 64 * 1024
"""What one fetch past the prefix reads at least: one request usually covers a whole directory."""


@dataclass
class Sparse:
    """Byte ranges of an object of ``total`` bytes; ``read`` fetches what is missing if it may."""

    total: int
    parts: dict[int, bytes] = field(default_factory=dict)
    fetch: Fetch | None = None
    fetched: int = 0  # bytes read past the prefix (at most MAX_HEADER_BYTES, like the prefix)
    fetches: int = 0

    @classmethod
    def of(cls, data: bytes, total: int | None = None, fetch: Fetch | None = None) -> Sparse:
        """``data`` as the prefix of an object of ``total`` bytes (all of it when ``total`` is None)."""
        return cls(len(data) if total is None else total, {0: data}, fetch)

    @property
    def prefix(self) -> bytes:
        return self.parts.get(0, b"")

    @property
    def complete(self) -> bool:
        return len(self.prefix) >= self.total

    def has(self, start: int, length: int) -> bool:
        return self._find(start, length) is not None

    def read(self, start: int, length: int) -> bytes:
        """``length`` bytes at ``start``; past the end of the object, what there is (like a file)."""
        if start >= self.total or length <= 0:
            return b""
        length = min(length, self.total - start)
        found = self._find(start, length)
        if found is not None:
            return found
        if self.fetch is None:
            raise NeedMore
        end = min(self.total, start + max(length, WINDOW))
        if self.fetches >= MAX_FETCHES:
            raise ImageRejected(
                "header-too-large", f"the header is spread over more than {MAX_FETCHES} places in the file"
            )
        if self.fetched + (end - start) > MAX_HEADER_BYTES:
            raise ImageRejected("header-too-large", f"the header needs more than {MAX_HEADER_BYTES} bytes")
        data = self.fetch(start, end - 1)
        self.fetches += 1
        self.fetched += len(data)
        self.parts[start] = data
        return data[:length]

    def _find(self, start: int, length: int) -> bytes | None:
        for at, data in self.parts.items():
            if at <= start and start + length <= at + len(data):
                return data[start - at : start - at + length]
        return None

    def reader(self) -> Reader:
        """A read-only file over these bytes for Pillow's header parsers."""
        if len(self.parts) == 1 and self.fetch is None:
            return Reader(self.prefix)
        return SparseReader(self)


class Reader(io.BytesIO):
    """BytesIO that remembers whether a reader ran off the end of the bytes it was given.

    That is how a header that is *cut short* (fetch more / truncated) is told apart
    from a header that is *wrong* (corrupt), whatever exception Pillow chose to raise.
    """

    ran_short = False
    read_all = False

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        if size is None or size < 0:
            self.read_all = True
        elif len(data) < size:
            self.ran_short = True
        return data


class SparseReader(Reader):
    """A file over a ``Sparse``: reads come from its parts (fetching if allowed); a gap reads short."""

    def __init__(self, sparse: Sparse) -> None:
        super().__init__(b"")
        self.sparse = sparse
        self.pos = 0

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: self.sparse.total}[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            self.read_all = True
            size = self.sparse.total - self.pos
        try:
            data = self.sparse.read(self.pos, size)
        except NeedMore:
            data = b""
        if len(data) < min(size, self.sparse.total - self.pos):
            self.ran_short = True
        elif len(data) < size:
            self.ran_short = True  # the end of the object
        self.pos += len(data)
        return data
