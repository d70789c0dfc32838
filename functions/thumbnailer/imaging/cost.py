"""What rendering an image will cost, from its header alone, and whether a function can pay it.

``estimate`` turns a ``Layout`` (format, size, mode, depth, how the decoder must buffer)
into the peak resident memory of the render process and its CPU seconds on one full
vCPU; ``check`` refuses by name (``too-costly``) what would not fit a function's
MemorySize, or its Timeout once Lambda's CPU share (MemorySize/1769 of a vCPU) stretches
the CPU time. Validate runs it against the Resize function's limits before any pixel
is read, the on-demand resizer against its own.

The model is the engine's own memory plan: the source bytes (and the copies a decoder
makes of them), then the largest of three phases: decoding (the image plus what the
decoder holds: libjpeg's coefficients, libtiff's strip, libwebp's ARGB buffer...),
converting to a working mode (the decoded image and its converted copy, made band by
band), resizing (the working image, its box-reduced copy, premultiplied bands). Its
constants are measured, not guessed: ``python -m bench.worstcase --calibrate`` renders
the largest image of each format and mode (45 cases) in a fresh process, and prints the
peak RSS and CPU next to the estimate and per pixel. The constants below are set so that
every estimate is at or above what was measured (plus the runtime's 36 MB) by at most
~60 MB, and every CPU estimate at or above the measured CPU (1.1-4x). No PIL here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import ImageRejected
from ..spec import SizeSpec
from . import geometry
from .layout import Layout

MIB = 1024 * 1024
FULL_VCPU_MB = 1769
"""Lambda's memory size with one full vCPU; below it a function gets MemorySize/1769 of one."""
BASELINE_MB = 94.0
"""The render process before an image (58 MB measured: Python, boto3 and an S3 client, Powertools,
Pillow, the handler), plus what Lambda's runtime adds to what it reports (~36 MB)."""
SLACK_MB = 32.0
"""Encoders, the outputs, allocator slack: what every render adds beyond its images."""
MEMORY_USE = 0.9
"""The share of MemorySize a render may plan to use: the rest covers the model's error."""
CPU_USE = 0.5
"""The share of the Timeout a render's CPU may plan to use: the rest is S3, cold start, error."""
CPU_MARGIN = 1.3
"""Measured CPU times one render to the next vary; the rates below are multiplied by this."""
REDUCING_GAP = 3.0  # pixels.RESIZE_REDUCING_GAP: the box reduction before resampling

# Bytes per pixel of Pillow's storage for each mode (everything else: 4).
_STORED = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}
# What the working-mode conversion adds (decode.working_mode), bytes per pixel.
_WORKING = {
    "I;16": 1,
    "I;16L": 1,
    "I;16B": 1,
    "I;16N": 1,
    "I": 1,
    "F": 1,
    "1": 1,
    "P": 4,
    "PA": 4,
    "RGBa": 4,
    "La": 4,
    "YCbCr": 4,
    "HSV": 4,
    "LAB": 4,
}
# The working mode each decoded mode becomes (alpha assumed used: the header cannot tell).
_BECOMES = {
    "1": "L",
    "I;16": "L",
    "I;16L": "L",
    "I;16B": "L",
    "I;16N": "L",
    "I": "L",
    "F": "L",
    "P": "RGBA",
    "PA": "RGBA",
    "RGBa": "RGBA",
    "La": "LA",
    "YCbCr": "RGB",
    "HSV": "RGB",
    "LAB": "RGB",
    "RGBX": "RGB",
}

# CPU on one vCPU, nanoseconds a decoded pixel: decoding, by format ...
_DECODE_NS = {
    "png": 2.5, "gif": 5.0, "tiff": 4.5, "bmp": 6.0, "webp": 3.5, "avif": 10.0, "jpeg": 10.0, "heif": 15.0,
}  # fmt: skip
# ... converting, by decoded mode (decode.working_mode) ...
_CONVERT_NS = {
    "I;16": 4.0,
    "I;16B": 4.0,
    "I;16L": 4.0,
    "I;16N": 4.0,
    "I": 5.0,
    "F": 5.0,
    "1": 1.0,
    "P": 6.0,
    "PA": 4.0,
    "RGBa": 4.0,
    "La": 4.0,
    "YCbCr": 5.0,
    "HSV": 5.0,
    "LAB": 30.0,
}
# ... and resizing from the full-size image, by working mode (premultiplied in bands with alpha).
_RESIZE_NS = {"L": 1.5, "LA": 10.0, "RGB": 6.0, "RGBA": 13.0, "CMYK": 6.0}
_JPEG_BYTE_NS = 7.0  # entropy decoding runs over every byte even when the DCT is scaled down
_HEIF_BYTE_NS = 130.0  # HEVC decoding follows the bitrate: a phone's 12 MP at q80 is 70% of it
_HEIF_DEEP_NS = 8.0  # per pixel, 10- and 12-bit HEVC
_JPEG_FULL_NS = 2.5  # per full-size pixel and 3 components, at any DCT scale
_JPEG_SCAN_NS = 10.0  # per full-size pixel and 3 components: the passes of a multi-scan decode
_CPU_BASE_S = 0.1  # parsing, encoding four small outputs


@dataclass(frozen=True)
class Estimate:
    """The peak memory (MB, the runtime included) and CPU seconds (one vCPU) of one render."""

    memory_mb: float
    cpu_s: float
    largest: str  # what dominates the memory, for the cause

    def __str__(self) -> str:
        return f"~{self.memory_mb:,.0f} MB and ~{self.cpu_s:.1f} s of CPU ({self.largest})"


@dataclass(frozen=True)
class Limits:
    """The function that renders: its MemorySize and Timeout, from the template."""

    memory_mb: int
    timeout_s: float
    function: str = "the render function"

    @property
    def stretch(self) -> float:
        """How much longer CPU-bound work takes there than on one full vCPU."""
        return max(1.0, FULL_VCPU_MB / self.memory_mb)


def _mb(nbytes: float) -> float:
    return nbytes / MIB


def _scales_on_load(lay: Layout, mode: str, direct_webp: bool) -> bool:
    """Whether the decoder scales down as it decodes: a JPEG's DCT, libwebp's rescaler for an
    opaque still WebP (``decode``)."""
    if lay.format == "jpeg":
        return True
    animated = lay.frames > 1 or (lay.webp is not None and lay.webp.animated)
    return lay.format == "webp" and direct_webp and mode != "RGBA" and not animated


def _scales(lay: Layout, specs: Sequence[SizeSpec], orientation: int, on_load: bool) -> tuple[int, int]:
    """(scale on load, box reduction factor) the render will use for the largest output."""
    if not specs:
        return 1, 1
    swap = geometry.swaps_axes(orientation)
    plans = [geometry.plan(i, s, lay.size, swap) for i, s in enumerate(specs)]
    draft = geometry.draft_factor(plans) if on_load else 1
    scale = min(min(p.scale) for p in plans) * draft  # output pixels per decoded pixel
    return draft, max(1, int(1 / scale / REDUCING_GAP)) if scale < 1 else 1


def _decoder_bytes(
    lay: Layout, mode: str, full: int, pixels: float, direct_webp: bool
) -> tuple[float, float]:
    """(bytes the decoder holds besides the image, copies it makes of the source bytes)."""
    if lay.format == "jpeg":
        return full * lay.coefficients, 0.0
    if lay.format == "tiff":
        compressed = lay.tiff is not None and lay.tiff.compression != 1
        return (lay.strip_bytes if compressed else 0.0), (1.0 if compressed else 0.0)
    if lay.format == "webp":
        if lay.frames > 1 or (lay.webp is not None and lay.webp.animated) or not direct_webp:
            return pixels * 8, 2.0  # Pillow's animation decoder: its canvas and the previous one
        if lay.lossless:
            return pixels * 4.0, 0.0  # VP8L decodes every ARGB pixel (4 bytes) before it emits rows
        return pixels * (1.4 if mode == "RGBA" else 0.3), 0.0  # the alpha plane, row caches
    if lay.format == "avif":
        planes = {"444": 3.0, "422": 2.0, "400": 1.0}.get(lay.chroma, 1.5)
        return pixels * (planes * (2 if lay.depth > 8 else 1) + 2.5), 2.0  # YUV, RGB, file copies
    if lay.format == "heif":
        return _heif_bytes(lay, mode, pixels), 2.0  # libheif's copy of the file, the HEVC stream
    if lay.format == "bmp" and lay.rle:
        return pixels * 2, 0.0  # the RLE decoder's buffer and its copy
    return 0.0, 0.0


def _heif_bytes(lay: Layout, mode: str, pixels: float) -> float:
    """What libheif holds beside Pillow's image at the peak, measured: its interleaved RGB while
    Pillow copies it (an RGBA is shared, but its YCbCr and alpha planes are alive then), plus
    the wider planes of a 10-bit image. A grey image is its own Y plane."""
    if mode == "L":
        return pixels * 0.3
    deep = lay.depth > 8
    return pixels * (3.0 + (1.0 if deep else 0.0) + (0.5 if deep and mode == "RGBA" else 0.0))


def estimate(
    lay: Layout,
    mode: str,
    source_bytes: int,
    specs: Sequence[SizeSpec] = (),
    orientation: int = 1,
    direct_webp: bool = True,
) -> Estimate:
    """Peak memory and CPU of rendering ``specs`` from an image whose header is ``lay``.

    ``direct_webp``: still WebPs are decoded by libwebp into their image (``webp``); where
    that is not available they go through Pillow's reader and are planned like animations.
    """
    full = lay.size[0] * lay.size[1]
    draft, reduce = _scales(lay, specs, orientation, _scales_on_load(lay, mode, direct_webp))
    pixels = full / (draft * draft)
    # libwebp decodes every block of a WebP, even one it scales down as it emits rows.
    decoding = full if lay.format == "webp" else pixels
    decoded = pixels * (4 if lay.format in ("webp", "avif") else _STORED.get(mode, 4))
    decoder, copies = _decoder_bytes(lay, mode, full, decoding, direct_webp)
    working_mode = _BECOMES.get(mode, mode)
    working = pixels * _WORKING.get(mode, 0)
    resized = working or decoded
    bands = 3 * 8 * MIB if working_mode in ("LA", "RGBA") else 0
    phases = {
        "decoding": decoded + decoder,
        "converting": decoded + working,
        "resizing": resized * (1 + 1 / reduce**2) + bands,
    }
    phase = max(phases, key=phases.__getitem__)
    memory = BASELINE_MB + SLACK_MB + _mb(source_bytes * (1 + copies) + phases[phase])
    ns = _CONVERT_NS.get(mode, 0.0) + _RESIZE_NS.get(working_mode, 13.0)
    decode_ns = _DECODE_NS.get(lay.format, 10.0)
    if lay.depth > 8 and lay.format in ("png", "tiff"):
        ns += 3.0
    if lay.format == "webp" and lay.lossless:
        decode_ns += 8.5
    if lay.format == "heif":
        ns -= _DECODE_NS["heif"] / 3 if lay.chroma == "400" else 0.0  # one plane of three halves
        ns += _HEIF_DEEP_NS if lay.depth > 8 else 0.0
    cpu = pixels * ns + decoding * decode_ns
    if lay.format == "jpeg":
        components = {"L": 1, "CMYK": 4}.get(mode, 3)
        per_full = _JPEG_FULL_NS + (_JPEG_SCAN_NS if lay.coefficients else 0.0)
        cpu += source_bytes * _JPEG_BYTE_NS + full * per_full * components / 3
    if lay.format == "heif":
        cpu += source_bytes * _HEIF_BYTE_NS
    seconds = _CPU_BASE_S + cpu * 1e-9 * CPU_MARGIN
    largest = f"{lay.format} {mode} {lay.size[0]}x{lay.size[1]}, {phase} {_mb(phases[phase]):,.0f} MB"
    return Estimate(round(memory, 1), round(seconds, 2), largest)


def check(est: Estimate, limits: Limits) -> None:
    """Refuse by name (``too-costly``) what would not fit the render function's memory or time."""
    if est.memory_mb > limits.memory_mb * MEMORY_USE:
        raise ImageRejected(
            "too-costly",
            f"needs ~{est.memory_mb:,.0f} MB to render ({est.largest}); {limits.function} has "
            f"{limits.memory_mb} MB, of which {limits.memory_mb * MEMORY_USE:,.0f} MB may be planned",
        )
    seconds = est.cpu_s * limits.stretch
    if seconds > limits.timeout_s * CPU_USE:
        raise ImageRejected(
            "too-costly",
            f"needs ~{seconds:,.0f} s of CPU to render at {limits.memory_mb} MB (1/{limits.stretch:.2f} of a "
            f"vCPU); {limits.function} times out after {limits.timeout_s:g} s, of which "
            f"{limits.timeout_s * CPU_USE:g} s may be planned",
        )
