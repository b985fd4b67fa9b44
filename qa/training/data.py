"""Training windows for the reader: SQuAD examples cut into windows and labelled with their
answer's start and end tokens (0 = CLS, "not in this window"; -1 in every window of an
unanswerable question), plus the optional negatives: BM25-retrieved distractor contexts and
contexts with the answer's sentences removed. Labelled windows are cached in the run's
folder under a key of the files and settings (:meth:`prepare_windows`)."""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import numpy as np

from qa.text.sentences import sentence_bounds
from qa.encoders.cache_files import write_atomic
from qa.reading.windows import encode_windows
from qa.ingest.squad_files import Example, load_squad
from qa.training.config import TrainConfig


def distractors(examples: list[Example], rate: float, rng: random.Random) -> list[Example]:
    """For a ``rate`` share of ``examples``: the question over the BM25-best other context
    (jieba tokens) that contains none of its answers, with no answer."""
    from tqdm import tqdm

    from qa.retrieval.stores.memory import bm25_index
    from qa.text.segment import tokenize

    contexts = list(dict.fromkeys(e.context for e in examples))
    bm25 = bm25_index([tokenize(c) for c in contexts])
    chosen = [e for e in examples if rng.random() < rate]
    found = []
    for e in tqdm(chosen, desc="distractors", mininterval=10):
        tokens = tokenize(e.question)
        ranked = np.argsort(-bm25.get_scores(tokens))[:5] if tokens else []
        other = next((contexts[i] for i in ranked if contexts[i] != e.context and not any(t in contexts[i] for t, _ in e.answers)), None)
        if other:
            found.append(Example(e.id + "-distractor", e.question, other, ()))
    return found


def removals(examples: list[Example], rate: float, rng: random.Random) -> list[Example]:
    """For a ``rate`` share of ``examples``: the question over its context with every sentence
    holding a gold answer cut out, with no answer; skipped when an answer is still in the rest."""
    found = []
    for e in examples:
        if rng.random() >= rate:
            continue
        cuts = sorted(sentence_bounds(e.context, start, start + len(text)) for text, start in e.answers)
        kept, last = [], 0
        for left, right in cuts:
            kept.append(e.context[last:max(last, left)])
            last = max(last, right)
        rest = "".join(kept) + e.context[last:]
        if rest.strip() and not any(text in rest for text, _ in e.answers):
            found.append(Example(e.id + "-removed", e.question, rest, ()))
    return found


def label_windows(tokenizer, examples: list[Example], cfg: TrainConfig, rng: random.Random):
    """Tokenise into windows and label start/end token (0 = CLS when the answer is elsewhere,
    -1 in every window of an unanswerable question). An unanswerable question contributes all
    its windows; another example without answers (a distractor or removal) one random window."""
    ids, starts, ends = [], [], []
    positives = misaligned = 0
    for lo in range(0, len(examples), 512):
        part = examples[lo : lo + 512]
        windows = encode_windows(tokenizer, [e.question for e in part], [e.context for e in part], cfg.max_length, cfg.stride, full_length=True)
        samples = windows.sample
        distractor_window = {s: rng.choice(np.flatnonzero(samples == s).tolist()) for s in dict.fromkeys(samples.tolist()) if not part[s].answers}
        for w, sample in enumerate(samples):
            if not part[sample].answers:
                if part[sample].impossible or distractor_window[sample] == w:
                    ids.append(windows.input_ids[w])
                    starts.append(-int(part[sample].impossible))
                    ends.append(-int(part[sample].impossible))
                continue
            text, a0 = part[sample].answers[0]
            a1 = a0 + len(text)
            offsets = windows.offsets[w]
            ctx = np.flatnonzero(windows.context[w])
            s = e = 0
            if len(ctx) and offsets[ctx[0]][0] <= a0 and offsets[ctx[-1]][1] >= a1:
                s = int(ctx[offsets[ctx, 0] <= a0][-1])
                e = int(ctx[offsets[ctx, 1] >= a1][0])
                positives += 1
                misaligned += offsets[s][0] != a0 and not part[sample].context[offsets[s][0] : a0].isspace() or offsets[e][1] != a1
            elif rng.random() >= cfg.negative_rate:
                continue
            ids.append(windows.input_ids[w])
            starts.append(s)
            ends.append(e)
    print(f"windows: {len(ids)} ({positives} with the answer; {misaligned} answers not on token boundaries)", flush=True)
    return np.stack(ids), np.array(starts), np.array(ends)


def prepare_windows(train_files: list[str], out: Path, cfg: TrainConfig, tokenizer, rng: random.Random) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labelled training windows (ids, start, end), cached in ``out/windows.npz`` under a key of
    the files and settings (the optional rates join the key only when used; caches from before
    unanswerable windows were labelled -1 are rebuilt)."""
    cached = out / "windows.npz"
    key = json.dumps(
        [train_files, cfg.max_length, cfg.stride, cfg.negative_rate, cfg.seed, {"impossible": -1}]
        + ([cfg.distractor_rate] if cfg.distractor_rate else [])
        + ([{"removal_rate": cfg.removal_rate}] if cfg.removal_rate else [])
        + ([{"oversample": cfg.oversample}] if cfg.oversample else [])
    )
    if cached.is_file() and str(np.load(cached)["key"]) == key:
        data = np.load(cached)
        return data["ids"], data["starts"], data["ends"]
    loaded = [e for f in train_files for e in load_squad(f) * cfg.oversample.get(Path(f).name, 1)]
    answered = [e for e in loaded if e.answers]
    print(f"questions: {len(answered)} answerable, {len(loaded) - len(answered)} unanswerable", flush=True)
    examples = loaded + (distractors(answered, cfg.distractor_rate, rng) if cfg.distractor_rate else [])
    examples += removals(answered, cfg.removal_rate, rng) if cfg.removal_rate else []
    ids, starts, ends = label_windows(tokenizer, examples, cfg, rng)
    buffer = io.BytesIO()
    np.savez(buffer, ids=ids, starts=starts, ends=ends, key=np.array(key))
    write_atomic(cached, buffer.getvalue())
    return ids, starts, ends
