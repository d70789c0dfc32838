"""Text for a terminal: keys and causes are chosen by whoever uploads, so they are escaped.

A key may hold a carriage return, an escape sequence or a bidirectional override;
printed raw, it could draw a fake "SUCCEEDED" line or recolour the terminal. Every
human-readable line the CLI prints passes through ``printable``; JSON output is
already escaped by the encoder.
"""

from __future__ import annotations

import unicodedata


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object) -> str:
    """``text`` with control, format and separator characters shown as escapes, never acted on."""
    out = []
    for ch in str(text):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Zl", "Zp") or ch == "\\":
            out.append("\\\\" if ch == "\\" else _escape(ch))
        else:
            out.append(ch)
    return "".join(out)
