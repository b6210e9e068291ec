"""kb/model/e5s1.py without the model file: Q4_0 decoding, and reading
hand-made E5S1 files, good and damaged."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from kb.model.e5s1 import QK, ModelError, dequantize_q4_0, read_e5s1


def q4_block(scale: float, nibbles: list[int]) -> bytes:
    """One Q4_0 block: 32 nibbles (0..15), weight j in byte j's low nibble
    for j < 16, in byte j-16's high nibble for j >= 16."""
    assert len(nibbles) == QK
    packed = bytes(nibbles[j] | (nibbles[j + 16] << 4) for j in range(16))
    return np.float16(scale).tobytes() + packed


def test_dequantize_one_block():
    nibbles = list(range(16)) + list(range(15, -1, -1))
    values = dequantize_q4_0(q4_block(0.5, nibbles), QK)
    assert values.dtype == np.float32 and values.shape == (QK,)
    assert values.tolist() == [(n - 8) * 0.5 for n in nibbles]


def test_dequantize_two_blocks_with_their_own_scales():
    raw = q4_block(1.0, [9] * QK) + q4_block(-2.0, [0] * QK)
    values = dequantize_q4_0(raw, 2 * QK)
    assert values[:QK].tolist() == [1.0] * QK and values[QK:].tolist() == [16.0] * QK


def test_dequantize_refuses_a_count_off_the_block_size():
    with pytest.raises(ModelError, match="not a multiple of 32"):
        dequantize_q4_0(q4_block(1.0, [8] * QK), QK + 1)


PIECES = ["<s>", "</s>", "▁hankinta"]


def e5s1(
    tensors: list[tuple[str, int, int, bytes]] | None = None,
    pieces: list[bytes] | None = None,
    qk: int = QK,
    norm: dict[int, str] | None = None,
) -> bytes:
    """An E5S1 file: (name, dtype, count, data) tensors after the header."""
    tensors = tensors if tensors is not None else []
    pieces = pieces if pieces is not None else [p.encode() for p in PIECES]
    norm = norm or {}
    head = b"E5S1" + struct.pack("<i", 1)
    head += struct.pack("<7i", 8, 2, 2, 16, len(pieces), 512, 2)
    head += struct.pack("<f", 1e-12) + struct.pack("<i", qk)
    head += struct.pack("<5i", len(pieces), 0, 1, 2, 3)
    blob = b"".join(pieces)
    offsets = np.cumsum([0] + [len(p) for p in pieces]).astype("<u4")
    head += struct.pack("<Q", len(blob)) + offsets.tobytes()
    head += np.arange(len(pieces), dtype="<f4").tobytes() + blob
    table = b"".join(
        struct.pack("<IB", cp, len(out)) + struct.pack(f"<{len(out)}I", *map(ord, out))
        for cp, out in norm.items()
    )
    head += struct.pack("<iI", len(norm), len(table)) + table
    head += struct.pack("<i", len(tensors))
    entries_size = sum(2 + len(n.encode()) + 1 + 4 + 8 + 8 for n, _, _, _ in tensors)
    offset = len(head) + entries_size
    entries, data = b"", b""
    for name, dtype, count, raw in tensors:
        entries += struct.pack("<H", len(name.encode())) + name.encode()
        entries += struct.pack("<B", dtype) + struct.pack(
            "<IQQ", count, offset + len(data), len(raw)
        )
        data += raw
    return head + entries + data


def write(tmp_path, data: bytes):
    path = tmp_path / "model.bin"
    path.write_bytes(data)
    return path


def test_a_well_formed_file_is_read(tmp_path):
    f32 = np.array([1.5, -2.0, 0.25], dtype="<f4")
    nibbles = [3] * QK
    data = e5s1(
        [("w", 0, 3, f32.tobytes()), ("q", 1, QK, q4_block(2.0, nibbles))],
        norm={0x00C5: "A\u030a"},
    )
    m = read_e5s1(write(tmp_path, data))
    assert (m.hidden, m.layers, m.heads, m.intermediate) == (8, 2, 2, 16)
    assert (m.vocab_size, m.max_positions, m.type_vocab_size) == (3, 512, 2)
    assert m.eps == pytest.approx(1e-12)
    assert m.pieces == PIECES and m.scores.tolist() == [0.0, 1.0, 2.0]
    assert (m.bos, m.eos, m.pad, m.unk) == (0, 1, 2, 3)
    assert m.normalization == {0x00C5: "A\u030a"}
    assert m.tensors["w"].tolist() == [1.5, -2.0, 0.25]
    assert m.tensors["q"].tolist() == [(3 - 8) * 2.0] * QK


def test_bad_magic_is_a_model_error_naming_the_file(tmp_path):
    path = write(tmp_path, b"GGUF" + e5s1()[4:])
    with pytest.raises(ModelError, match="bad magic") as caught:
        read_e5s1(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("cut", [4, 10, 40, 60, 90])
def test_a_truncated_header_is_a_model_error(tmp_path, cut):
    data = e5s1([("w", 0, 2, np.ones(2, "<f4").tobytes())])
    with pytest.raises(ModelError, match="truncated"):
        read_e5s1(write(tmp_path, data[:cut]))


def test_a_tensor_running_past_the_end_is_a_model_error(tmp_path):
    data = e5s1([("w", 0, 4, np.ones(4, "<f4").tobytes())])
    with pytest.raises(ModelError, match="tensor w runs past the end"):
        read_e5s1(write(tmp_path, data[:-4]))


def test_an_unknown_tensor_type_or_block_size_is_a_model_error(tmp_path):
    with pytest.raises(ModelError, match="unknown dtype 7"):
        read_e5s1(write(tmp_path, e5s1([("w", 7, 1, b"\0" * 4)])))
    with pytest.raises(ModelError, match="block size 64"):
        read_e5s1(write(tmp_path, e5s1(qk=64)))


def test_a_piece_that_is_not_utf8_is_a_model_error(tmp_path):
    with pytest.raises(ModelError):
        read_e5s1(write(tmp_path, e5s1(pieces=[b"<s>", b"\xff\xfe", b"x"])))


def test_a_tensor_with_fewer_bytes_than_values_is_a_model_error(tmp_path):
    with pytest.raises(ModelError):
        read_e5s1(write(tmp_path, e5s1([("w", 0, 8, np.ones(2, "<f4").tobytes())])))
