"""Torch models on the e5 weights (for passages, training, bf16 reading and graph export),
sharing the 4-bit word-embedding table instead of a 384 MB fp32 matrix."""

from __future__ import annotations

from pathlib import Path

from qa.encoders.e5.model_files import WORD_EMBEDDINGS, ensure_model, quiet_transformers
from qa.encoders.e5.packed import Q4Table


def as_torch_module(table: Q4Table):
    """``table`` as a drop-in for a frozen ``nn.Embedding`` (no parameters, no state)."""
    import torch

    class Q4Embedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.table = table
            self.num_embeddings, self.embedding_dim = table.nibbles.shape[0], table.nibbles.shape[1] * 32

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            return torch.from_numpy(table.rows(input_ids.cpu().numpy())).to(input_ids.device)

    return Q4Embedding()


def load_bert(cache: Path, model_class: str, word_embeddings: Q4Table, **init):
    """The transformers class ``model_class`` (``BertModel`` or a ``Bert*`` task model) on the
    e5 weights under ``cache``, in fp32 and eval mode, with the shared 4-bit ``word_embeddings``
    in place of the fp32 matrix, which is never materialised. ``init``: keyword arguments of the
    model class; task-head weights stay as initialised."""
    import torch
    import transformers
    from safetensors import safe_open

    quiet_transformers()
    folder = ensure_model(cache)
    config = transformers.BertConfig.from_pretrained(str(folder))
    vocab_size, config.vocab_size = config.vocab_size, config.pad_token_id + 1  # placeholder matrix
    model = getattr(transformers, model_class)(config, **init)
    config.vocab_size = vocab_size
    model.base_model.embeddings.word_embeddings = as_torch_module(word_embeddings)
    with safe_open(str(folder / "model.safetensors"), "pt") as f:
        state = {k: f.get_tensor(k) for k in f.keys() if k != WORD_EMBEDDINGS}
    missing, unexpected = model.base_model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if "position_ids" not in k]:
        raise RuntimeError(f"e5 weights do not fit {model_class}: missing={missing} unexpected={unexpected}")
    return model.eval().to(torch.float32)
