"""Stand-ins for the model in unit tests: a character-level tokenizer with e5's special tokens."""

from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]  # e5's ids 0-3: <s> (CLS, the no-answer position), <pad>, </s>, <unk>


def char_tokenizer(text: str) -> Tokenizer:
    """One token per character of ``text`` (any other character is ``<unk>``), with character
    offsets, and e5's templates: ``<s> Q </s> </s> C </s>``."""
    vocab = {token: i for i, token in enumerate(SPECIALS)}
    for ch in dict.fromkeys(text):
        vocab.setdefault(ch, len(vocab))
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>", special_tokens=[("<s>", 0), ("</s>", 2)]
    )
    return tokenizer


class FakeEmbedder:
    """An embedder without a model: a passage's vector is its characters hashed into 384
    buckets, normalised (texts sharing characters are near); ``fail_after`` raises
    ``KeyboardInterrupt`` on that call of :meth:`passages`, as a user's Ctrl-C would."""

    model_id = "fake/e5"
    model_hash = "0" * 64

    def __init__(self, fail_after: int | None = None):
        self.calls = 0
        self.embedded: list[str] = []
        self.fail_after = fail_after

    def passages(self, texts: list[str], progress: bool = False):
        import numpy as np

        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt
        self.embedded += texts
        return np.stack([self.query(t)[0] for t in texts]) if texts else np.zeros((0, 384), np.float32)

    def query(self, text: str):
        import zlib

        import numpy as np

        vector = np.zeros(384, np.float32)
        for ch in text:
            vector[zlib.crc32(ch.encode()) % 384] += 1.0
        return (vector / max(np.linalg.norm(vector), 1e-9))[None, :].astype(np.float32)

