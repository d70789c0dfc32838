"""A still WebP decoded by libwebp straight into the memory of the image that holds it.

Pillow's WebP reader goes through libwebp's animation decoder, which keeps two canvases
of the whole image, returns a third copy as bytes, and Pillow copies that into the image:
16 bytes a pixel at the peak, 1.6 GB for the largest WebP (16383x6103). libwebp's simple
API (``WebPDecodeRGBAInto``) decodes into a buffer we own: 4 bytes a pixel, plus what the
lossless decoder keeps while it works. Pillow exposes no such call, so the libwebp that
Pillow ships (and has already loaded, for ``PIL._webp``) is called through ctypes. The
pixels are the ones Pillow's reader gives (tests compare them); animations, or a build
where the library cannot be found, use Pillow's reader.
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
        return lib
    return None


def available() -> bool:
    """Whether still WebPs can be decoded this way here (the cost model plans for it)."""
    return _library() is not None


def decode(data: bytes, size: tuple[int, int], alpha: bool) -> Image.Image | None:
    """The pixels of a still WebP as RGBA (``alpha``) or RGBX; None when libwebp refuses them."""
    lib = _library()
    if lib is None:
        return None
    width, height = size
    buffer = bytearray(width * height * 4)
    view = (ctypes.c_uint8 * len(buffer)).from_buffer(buffer)
    try:
        done = lib.WebPDecodeRGBAInto(data, len(data), ctypes.addressof(view), len(buffer), width * 4)
    finally:
        del view  # the buffer may be handed on only once nothing else exports it
    if not done:
        return None
    mode = "RGBA" if alpha else "RGBX"
    return Image.frombuffer(mode, size, buffer, "raw", mode, 0, 1)
