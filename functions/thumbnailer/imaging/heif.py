"""HEIC/HEIF: our own header parse as the Pillow image, libheif (pillow-heif) for the pixels.

pillow-heif's Pillow plugin hands the whole file to libheif just to open it, which Validate
cannot afford (it reads the header only) and which would let libheif walk a box bomb
before our caps. So the image Pillow sees is ``HeifImageFile``: its size, mode and colour
profile come from ``isobmff`` (bounded, from the first bytes), and only ``decode`` gives
libheif the file, asking for the primary image alone: no thumbnails, depth or auxiliary
images are read, and no plugin is registered with Pillow (``Image.open`` is unchanged).

Orientation: libheif applies ``clap``, ``irot`` and ``imir`` while it decodes, so the pixels
arrive upright and that is the only turn they get. An EXIF orientation tag inside a HEIF is
informative only (HEIF and MIAF say so; libheif, libvips and browsers ignore it), and
applying it as well would turn an iPhone photo twice; it is never read.
"""

from __future__ import annotations

from PIL import Image, ImageFile

from . import cicp, isobmff
from .headers import NeedMore

try:
    import pillow_heif
    from pillow_heif import options as heif_options
except ImportError:  # pragma: no cover - a bundle without pillow-heif
    pillow_heif = None

FORMAT = "HEIF"


def available() -> bool:
    """Whether libheif is here (pillow-heif installed) with an HEVC decoder."""
    return pillow_heif is not None and bool(pillow_heif.libheif_info().get("decoders"))


def _configure() -> None:
    """Only the primary image: thumbnails, depth maps and auxiliary images are never decoded."""
    if pillow_heif is not None:
        heif_options.THUMBNAILS = False
        heif_options.DEPTH_IMAGES = False
        heif_options.AUX_IMAGES = False


_configure()


def accept(prefix: bytes) -> bool:
    """An ISO file (``identify`` has already judged its brands)."""
    return prefix[4:8] == b"ftyp"


def _header_bytes(fp: ImageFile.ImageFile | object) -> bytes:
    """The file from its start to the end of its meta box, read box header by box header."""
    at = 0
    while True:
        fp.seek(at)  # type: ignore[attr-defined]
        head = fp.read(16)  # type: ignore[attr-defined]
        if len(head) < 8:
            raise NeedMore
        size, kind = int.from_bytes(head[:4], "big"), head[4:8]
        if size == 1 and len(head) == 16:
            size = int.from_bytes(head[8:16], "big")
        if size < 8 or kind == b"meta":
            fp.seek(0)  # type: ignore[attr-defined]
            return fp.read(at + size if size >= 8 else at + 16)  # type: ignore[no-any-return,attr-defined]
        at += size
        if at > isobmff.MAX_HEADER_END:
            raise NeedMore


class HeifImageFile(ImageFile.ImageFile):
    """A HEIF whose header we parsed; ``load`` (or ``decode``) has libheif decode the primary image."""

    format = FORMAT
    format_description = "HEIF image (header parsed here, pixels by libheif)"

    header: isobmff.HeifHeader

    def _open(self) -> None:
        header = isobmff.heif_header(_header_bytes(self.fp))
        self.header = header
        self._size = header.size
        self._mode = "RGBA" if header.alpha else "L" if header.chroma == "400" else "RGB"
        profile = header.icc
        if profile is None and header.nclx is not None:
            profile = cicp.icc_for(header.nclx[0], header.nclx[1])
        if profile:
            self.info["icc_profile"] = profile
        self.tile = []

    def decode(self) -> Image.Image:
        """The primary image, upright, as libheif decodes it (8 bits a channel)."""
        assert pillow_heif is not None and self.fp is not None
        self.fp.seek(0)
        data = self.fp.read()
        heif = pillow_heif.open_heif(data, convert_hdr_to_8bit=True, remove_stride=False)
        primary = heif[heif.primary_index]
        pixels, stride, mode, size = primary.data, primary.stride, primary.mode, primary.size
        del heif, primary
        if mode not in ("RGB", "RGBA", "L", "RGBa"):
            raise ValueError(f"libheif gave {mode} pixels")
        # RGBA and L share libheif's buffer; RGB is copied once into Pillow's 4 bytes a pixel.
        return Image.frombuffer(mode, size, pixels, "raw", mode, stride, 1)

    def load(self) -> Image.core.ImagingCore | None:  # type: ignore[override]
        if self._im is None:
            decoded = self.decode()
            self.im, self._mode, self._size = decoded.im, decoded.mode, decoded.size
            self.readonly = decoded.readonly
        return Image.Image.load(self)
