"""A still WebP decoded by libwebp straight into the memory of the image that holds it.

Pillow's WebP reader goes through libwebp's animation decoder, which keeps two canvases
of the whole image, returns a third copy as bytes, and Pillow copies that into the image:
16 bytes a pixel at the peak, 1.6 GB for the largest WebP (16383x6103). libwebp's simple
API (``WebPDecodeRGBAInto``) decodes into a buffer we own: 4 bytes a pixel, plus what the
lossless decoder keeps while it works. Pillow exposes no such call, so the libwebp that
Pillow ships (and has already loaded, for ``PIL._webp``) is called through ctypes. The
pixels are the ones Pillow's reader gives (tests compare them); animations, or a build
where the library cannot be found, use Pillow's reader.

A still that is scaled down for its thumbnails is decoded at that smaller size by libwebp's
advanced API (``WebPDecode`` with ``use_scaling``), as libvips' shrink-on-load does: libwebp
still decodes every block, but averages rows into the smaller image as it emits them, so the
full-size RGBA image is never made, converted or resized.
"""

from __future__ import annotations

import ctypes
import glob
import os
from functools import cache

from PIL import Image


@cache
def _library() -> ctypes.CDLL | None:
    """The libwebp this Pillow loaded: found in the process's mappings, else next to Pillow."""
    try:
        from PIL import _webp  # noqa: F401  (loads Pillow's libwebp into the process)
    except ImportError:  # pragma: no cover - a Pillow without WebP
        return None
    candidates: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rsplit(" ", 1)[-1].strip()
                if os.path.basename(path).startswith(("libwebp-", "libwebp.so")) and path not in candidates:
                    candidates.append(path)
    except OSError:  # pragma: no cover - not Linux
        pass
    import PIL

    libs = os.path.join(os.path.dirname(os.path.dirname(PIL.__file__)), "pillow.libs")
    candidates += sorted(glob.glob(os.path.join(libs, "libwebp-*.so*")))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
            decode = lib.WebPDecodeRGBAInto
        except (OSError, AttributeError):
            continue
        decode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        decode.restype = ctypes.c_void_p
        try:
            lib.WebPInitDecoderConfigInternal.argtypes = [ctypes.c_void_p, ctypes.c_int]
            lib.WebPDecode.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_void_p]
        except AttributeError:  # pragma: no cover - a libwebp without the advanced API
            continue
        if not lib.WebPInitDecoderConfigInternal(ctypes.byref(_Config()), _DECODER_ABI):
            continue  # pragma: no cover - another decoder ABI: the structs below would not fit
        return lib
    return None


# libwebp's decode.h, decoder ABI 0x0209 (libwebp 1.x): the structs WebPDecode reads and fills
# in. The library refuses a config whose ABI major byte is not its own; a library that does
# is not used at all (``available`` is False and the cost model plans for Pillow's reader),
# so the scaled decode the model plans for is never swapped for a bigger one.
_DECODER_ABI = 0x0209
_MODE_RGBA = 1  # WEBP_CSP_MODE: MODE_RGBA
_int, _u32, _ptr, _size = ctypes.c_int, ctypes.c_uint32, ctypes.c_void_p, ctypes.c_size_t


class _Features(ctypes.Structure):
    _fields_ = [(n, _int) for n in ("width", "height", "has_alpha", "has_animation", "format")] + [
        ("pad", _u32 * 5)
    ]


class _RGBA(ctypes.Structure):
    _fields_ = [("rgba", _ptr), ("stride", _int), ("size", _size)]


class _YUVA(ctypes.Structure):  # never used; only its size matters, for the union
    _fields_ = (
        [(n, _ptr) for n in "yuva"]
        + [(f"{n}_stride", _int) for n in "yuva"]
        + [(f"{n}_size", _size) for n in "yuva"]
    )


class _Buffer(ctypes.Union):
    _fields_ = [("RGBA", _RGBA), ("YUVA", _YUVA)]


class _Output(ctypes.Structure):
    _fields_ = [(n, _int) for n in ("colorspace", "width", "height", "is_external_memory")] + [
        ("u", _Buffer),
        ("pad", _u32 * 4),
        ("private_memory", _ptr),
    ]


class _Options(ctypes.Structure):
    _fields_ = [
        (n, _int)
        for n in (
            "bypass_filtering", "no_fancy_upsampling", "use_cropping", "crop_left", "crop_top",
            "crop_width", "crop_height", "use_scaling", "scaled_width", "scaled_height",
            "use_threads", "dithering_strength", "flip", "alpha_dithering_strength",
        )
    ] + [("pad", _u32 * 5)]  # fmt: skip


class _Config(ctypes.Structure):
    _fields_ = [("input", _Features), ("output", _Output), ("options", _Options)]


def available() -> bool:
    """Whether still WebPs can be decoded this way here (the cost model plans for it)."""
    return _library() is not None


def decode(
    data: bytes, size: tuple[int, int], alpha: bool, scaled: tuple[int, int] | None = None
) -> Image.Image | None:
    """The pixels of a still WebP as RGBA (``alpha``) or RGBX, at ``scaled`` size if given
    (``size`` is the stored one); None when libwebp refuses them."""
    lib = _library()
    if lib is None:
        return None
    out = scaled or size
    width, height = out
    buffer = bytearray(width * height * 4)
    view = (ctypes.c_uint8 * len(buffer)).from_buffer(buffer)
    address = ctypes.addressof(view)
    try:
        if out == size:
            done = bool(lib.WebPDecodeRGBAInto(data, len(data), address, len(buffer), width * 4))
        else:
            done = _decode_scaled(lib, data, out, address, len(buffer))
    finally:
        del view  # the buffer may be handed on only once nothing else exports it
    if not done:
        return None
    mode = "RGBA" if alpha else "RGBX"
    return Image.frombuffer(mode, out, buffer, "raw", mode, 0, 1)


def _decode_scaled(lib: ctypes.CDLL, data: bytes, out: tuple[int, int], address: int, length: int) -> bool:
    """``WebPDecode`` into our buffer, scaled to ``out`` by libwebp's own rescaler."""
    config = _Config()
    lib.WebPInitDecoderConfigInternal(ctypes.byref(config), _DECODER_ABI)  # checked in _library
    options = config.options
    options.use_scaling, (options.scaled_width, options.scaled_height) = 1, out
    output = config.output
    output.colorspace, output.is_external_memory = _MODE_RGBA, 1
    output.u.RGBA.rgba, output.u.RGBA.stride, output.u.RGBA.size = address, out[0] * 4, length
    return lib.WebPDecode(data, len(data), ctypes.byref(config)) == 0  # VP8_STATUS_OK
