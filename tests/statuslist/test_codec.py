"""The packed array and its lst encoding, against the draft's own examples and at the edges."""

from __future__ import annotations

import base64
import zlib

import pytest

from registry.statuslist.codec import (
    StatusListFormatError,
    byte_length,
    decode_lst,
    encode_lst,
    get_status,
    set_status,
)


def packed(statuses: list[int], bits: int) -> bytearray:
    array = bytearray(byte_length(len(statuses), bits))
    for index, status in enumerate(statuses):
        set_status(array, index, status, bits)
    return array


def test_one_bit_example_of_the_draft_section_4() -> None:
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    assert bytes(packed(statuses, 1)) == bytes([0xB9, 0xA3])


def test_two_bit_example_of_the_draft_encodes_to_its_lst() -> None:
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    array = packed(statuses, 2)
    assert bytes(array) == bytes([0xC9, 0x44, 0xF9])
    assert encode_lst(array) == "eNo76fITAAPfAgc"  # the draft's status_list_encoding2 example
    decoded = decode_lst("eNo76fITAAPfAgc")
    assert [get_status(decoded, i, 2) for i in range(12)] == statuses


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_every_index_round_trips_for_every_width(bits: int) -> None:
    size = 64
    statuses = [(i * 7 + 3) % (1 << bits) for i in range(size)]
    array = packed(statuses, bits)
    assert len(array) == size * bits // 8
    again = decode_lst(encode_lst(array))
    assert [get_status(again, i, bits) for i in range(size)] == statuses


@pytest.mark.parametrize("index", [0, 3, 4, 7, 8, 31])
def test_setting_one_entry_at_a_byte_boundary_leaves_its_neighbours(index: int) -> None:
    array = packed([3] * 32, 2)  # every entry 0b11
    set_status(array, index, 0, 2)
    assert get_status(array, index, 2) == 0
    others = [get_status(array, i, 2) for i in range(32) if i != index]
    assert others == [3] * 31
    byte, shift = divmod(index * 2, 8)
    assert array[byte] == 0xFF & ~(0b11 << shift)


def test_indices_outside_the_array_are_refused() -> None:
    array = bytearray(2)  # 8 entries of 2 bits
    assert get_status(array, 7, 2) == 0
    for index in (8, -1):
        with pytest.raises(StatusListFormatError, match="outside"):
            get_status(array, index, 2)
        with pytest.raises(StatusListFormatError, match="outside"):
            set_status(array, index, 1, 2)


def test_a_status_wider_than_bits_and_odd_widths_are_refused() -> None:
    with pytest.raises(StatusListFormatError, match="does not fit"):
        set_status(bytearray(1), 0, 4, 2)
    with pytest.raises(StatusListFormatError, match="bits"):
        byte_length(8, 3)


def test_lst_is_zlib_level_9_and_unpadded_base64url() -> None:
    lst = encode_lst(bytearray(1000))
    assert "=" not in lst and "+" not in lst and "/" not in lst
    raw = base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4))
    assert raw[:2] == b"\x78\xda"  # zlib header, best compression
    assert zlib.decompress(raw) == bytes(1000)


def test_bad_lst_values_are_refused() -> None:
    with pytest.raises(StatusListFormatError, match="zlib"):
        decode_lst("not-zlib-data")
    truncated = encode_lst(bytearray(range(200)))[:-6]
    with pytest.raises(StatusListFormatError):
        decode_lst(truncated)
    bomb = encode_lst(bytearray(4096))
    with pytest.raises(StatusListFormatError, match="more than 1024 bytes"):
        decode_lst(bomb, max_bytes=1024)
    assert decode_lst(bomb, max_bytes=4096) == bytes(4096)
