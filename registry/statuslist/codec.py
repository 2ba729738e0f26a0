"""The Status List byte array (draft-ietf-oauth-status-list, section 4).

Each entry takes ``bits`` bits (1, 2, 4 or 8); entry ``i`` lives in byte ``i * bits // 8``,
counted from the least significant bit of that byte. The array travels zlib-compressed
(DEFLATE in the ZLIB format, level 9 as the draft recommends) and base64url-encoded without
padding in the ``lst`` member.
"""

from __future__ import annotations

import base64
import zlib
from typing import Final

# Status types (section 7.1). The registry lists consent tokens with bits = 2.
VALID: Final = 0x00
INVALID: Final = 0x01  # revoked, superseded or expired: final
SUSPENDED: Final = 0x02  # temporarily invalid: reversible
BITS: Final = 2
ALLOWED_BITS: Final = (1, 2, 4, 8)


class StatusListFormatError(ValueError):
    """A list that cannot be read: bad bits, base64url, zlib data, or an index outside it."""


def _check_bits(bits: int) -> None:
    if bits not in ALLOWED_BITS:
        raise StatusListFormatError(f"bits must be one of 1, 2, 4, 8, not {bits!r}")


def byte_length(size: int, bits: int) -> int:
    """Bytes that hold ``size`` entries of ``bits`` bits."""
    _check_bits(bits)
    return (size * bits + 7) // 8


def set_status(array: bytearray, index: int, status: int, bits: int) -> None:
    """Write ``status`` into entry ``index`` of ``array``."""
    if not 0 <= status < (1 << bits):
        raise StatusListFormatError(f"status {status} does not fit in {bits} bits")
    byte, shift = divmod(index * bits, 8)
    if index < 0 or byte >= len(array):
        raise StatusListFormatError(f"index {index} is outside the list")
    mask = ((1 << bits) - 1) << shift
    array[byte] = (array[byte] & ~mask & 0xFF) | (status << shift)


def get_status(array: bytes | bytearray, index: int, bits: int) -> int:
    """The status in entry ``index`` of ``array``."""
    byte, shift = divmod(index * bits, 8)
    if index < 0 or byte >= len(array):
        raise StatusListFormatError(f"index {index} is outside the list")
    return (array[byte] >> shift) & ((1 << bits) - 1)


def encode_lst(array: bytes | bytearray) -> str:
    """The ``lst`` member: zlib (DEFLATE, level 9), then base64url without padding."""
    return base64.urlsafe_b64encode(zlib.compress(bytes(array), 9)).rstrip(b"=").decode()


def decode_lst(lst: str, *, max_bytes: int = 64 * 1024 * 1024) -> bytes:
    """The byte array in ``lst``; at most ``max_bytes`` are inflated (a zlib bomb stops there)."""
    try:
        padded = (lst + "=" * (-len(lst) % 4)).encode("ascii")
        compressed = base64.b64decode(padded, altchars=b"-_", validate=True)
        inflater = zlib.decompressobj()
        array = inflater.decompress(compressed, max_bytes)
    except (ValueError, zlib.error) as exc:
        raise StatusListFormatError("lst is not base64url-encoded zlib data") from exc
    if inflater.unconsumed_tail or not inflater.eof:
        raise StatusListFormatError(f"lst is truncated or inflates to more than {max_bytes} bytes")
    return array
