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
