"""Fine-tune the reader on SQuAD-format data (plain PyTorch, resumable).

Windows that do not hold the answer are kept at ``negative_rate`` with the CLS token
as target, so the model learns to say "not in this window". With ``distractor_rate`` a
share of the questions is also paired with the BM25-best *other* context of the training
set that does not contain the answer (one window, CLS target): the on-topic passages the
retriever hands the reader at answer time, where it must say "not here". With
``removal_rate`` a share of the questions is also paired with its own context minus the
sentences that hold the answer (one window, CLS target): the same topic and wording with
only the asked-for fact gone, like a plausible question the article does not answer.
A checkpoint (trainable weights, optimiser, step) is written every ``save_every`` steps;
the shippable fp16 overlay is exported beside it at the same time.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.reader import context_mask, encode_windows, load_model, load_tokenizer, sentence_bounds
from qa.squad import Example, load_squad


@dataclass
class TrainConfig:
    max_length: int = 256
    stride: int = 96
    negative_rate: float = 0.2
    distractor_rate: float = 0.0
    removal_rate: float = 0.0
    batch_size: int = 16
    lr: float = 1e-4
    warmup: float = 0.06
    epochs: float = 2.0
    total_steps: int | None = None  # overrides epochs: the length of the LR schedule
    threads: int | None = None  # torch intra-op threads (None: torch's default)
    weight_decay: float = 0.01
    seed: int = 42
    save_every: int = 100
    bf16: bool = True


def distractors(examples: list[Example], rate: float, rng: random.Random) -> list[Example]:
    """For a ``rate`` share of ``examples``: the question over the BM25-best other context
    (jieba tokens) that contains none of its answers, with no answer."""
    from tqdm import tqdm

    from qa.retriever import bm25_index, tokenize

    contexts = list(dict.fromkeys(e.context for e in examples))
    bm25 = bm25_index(contexts)
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
    """Tokenise into windows and label start/end token (0 = CLS when the answer is elsewhere).
    An example without answers (a distractor or removal) contributes one random window."""
    ids, starts, ends = [], [], []
    positives = misaligned = 0
    for lo in range(0, len(examples), 512):
        part = examples[lo : lo + 512]
        enc = encode_windows(tokenizer, [e.question for e in part], [e.context for e in part], cfg.max_length, cfg.stride, full_length=True)
        samples = np.asarray(enc["overflow_to_sample_mapping"])
        distractor_window = {s: rng.choice(np.flatnonzero(samples == s).tolist()) for s in dict.fromkeys(samples.tolist()) if not part[s].answers}
        for w, sample in enumerate(samples):
            if not part[sample].answers:
                if distractor_window[sample] == w:
                    ids.append(enc["input_ids"][w])
                    starts.append(0)
                    ends.append(0)
                continue
            text, a0 = part[sample].answers[0]
            a1 = a0 + len(text)
            offsets = enc["offset_mapping"][w]
            ctx = np.nonzero(context_mask(enc, w))[0]
            s = e = 0
            if len(ctx) and offsets[ctx[0]][0] <= a0 and offsets[ctx[-1]][1] >= a1:
                s = int(ctx[offsets[ctx, 0] <= a0][-1])
                e = int(ctx[offsets[ctx, 1] >= a1][0])
                positives += 1
                misaligned += offsets[s][0] != a0 and not part[sample].context[offsets[s][0] : a0].isspace() or offsets[e][1] != a1
            elif rng.random() >= cfg.negative_rate:
                continue
            ids.append(enc["input_ids"][w])
            starts.append(s)
            ends.append(e)
    print(f"windows: {len(ids)} ({positives} with the answer; {misaligned} answers not on token boundaries)", flush=True)
    return np.stack(ids), np.array(starts), np.array(ends)


def _atomic_save(obj, path: Path, saver) -> None:
    tmp = path.with_name(path.name + ".tmp")
    saver(obj, str(tmp))
    os.replace(tmp, path)


def export_overlay(model, path: Path) -> None:
    """Write the trained tensors as one fp16 safetensors file."""
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items()}
    _atomic_save(state, path, save_file)


def train(train_files: list[str], out: Path, cfg: TrainConfig, init: Path | None = None, max_steps: int | None = None) -> Path:
    """Train (or resume from ``out/checkpoint.pt``) and return the exported overlay path."""
    import torch
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(cfg.seed)
    torch.manual_seed(cfg.seed)
    tokenizer = load_tokenizer()
    cached = out / "windows.npz"
    # the distractor and removal rates join the key only when used, so older caches stay valid
    key = json.dumps(
        [train_files, cfg.max_length, cfg.stride, cfg.negative_rate, cfg.seed]
        + ([cfg.distractor_rate] if cfg.distractor_rate else [])
        + ([{"removal_rate": cfg.removal_rate}] if cfg.removal_rate else [])
    )
    if cached.is_file() and str(np.load(cached)["key"]) == key:
        data = np.load(cached)
        ids, starts, ends = data["ids"], data["starts"], data["ends"]
    else:
        answered = [e for f in train_files for e in load_squad(f) if e.answers]
        examples = answered + (distractors(answered, cfg.distractor_rate, rng) if cfg.distractor_rate else [])
        examples += removals(answered, cfg.removal_rate, rng) if cfg.removal_rate else []
        ids, starts, ends = label_windows(tokenizer, examples, cfg, rng)
        _atomic_save(dict(ids=ids, starts=starts, ends=ends, key=np.array(key)), cached, lambda d, p: np.savez(open(p, "wb"), **d))
    n = len(ids)
    steps_per_epoch = n // cfg.batch_size
    total = cfg.total_steps or int(steps_per_epoch * cfg.epochs)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)

    model = load_model(init)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = max(1, int(total * cfg.warmup))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warm, max(0.0, (total - step) / max(1, total - warm)))
    )
    step = 0
    checkpoint = out / "checkpoint.pt"
    if checkpoint.is_file():
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        step = state["step"]
        print(f"resumed from step {step}", flush=True)
    (out / "train_config.json").write_text(json.dumps({**asdict(cfg), "train_files": train_files, "windows": n, "total_steps": total}, indent=2))

    def save():
        _atomic_save(
            {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "schedule": schedule.state_dict(), "step": step},
            checkpoint,
            torch.save,
        )
        export_overlay(model, out / "reader.safetensors")

    last = min(total, max_steps or total)
    bar = tqdm(total=last, initial=step, desc="train", mininterval=10)
    losses: list[float] = []
    started = time.time()
    while step < last:
        epoch, within = divmod(step, steps_per_epoch)
        order = np.random.default_rng(cfg.seed + epoch).permutation(n)
        batch = order[within * cfg.batch_size : (within + 1) * cfg.batch_size]
        input_ids = torch.from_numpy(ids[batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            loss = model(
                input_ids=input_ids,
                attention_mask=(input_ids != tokenizer.pad_token_id).long(),
                start_positions=torch.from_numpy(starts[batch]),
                end_positions=torch.from_numpy(ends[batch]),
            ).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        losses.append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", lr=f"{schedule.get_last_lr()[0]:.2e}", refresh=False)
        if step % cfg.save_every == 0 or step == last:
            save()
            print(f"step {step}/{total} loss {np.mean(losses[-cfg.save_every:]):.4f} {time.time() - started:.0f}s", flush=True)
    return out / "reader.safetensors"
