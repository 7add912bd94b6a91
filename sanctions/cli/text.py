"""Text for a terminal: what the commands print to a person, made safe to print."""

from __future__ import annotations

_BIDI = {0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def safe_text(text: str) -> str:
    """Text for a terminal: control characters (ESC and the rest of C0 and C1, DEL) and bidirectional
    overrides in names and descriptions become visible escapes (``\\x1b``), so data can neither move the
    cursor, recolour, retitle the terminal nor reorder what is shown. Line breaks and tabs stay."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        n = ord(ch)
        if ch in "\n\t" or (n >= 0x20 and n != 0x7F and not 0x80 <= n < 0xA0 and n not in _BIDI):
            out.append(ch)
        else:
            out.append(f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}")
    return "".join(out)
