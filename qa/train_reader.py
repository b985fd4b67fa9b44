"""Fine-tune the reader on SQuAD-format data (plain PyTorch, resumable).

Windows that do not hold the answer are kept at ``negative_rate`` with the CLS token
as target, so the model learns to say "not in this window". Every window of an
unanswerable SQuAD 2.0 question (``is_impossible``) gets the CLS target: plausible,
on-topic questions whose context holds a right-typed answer about something else.
``oversample`` repeats the questions of chosen files (by file name) to set the mix. With ``distractor_rate`` a
share of the questions is also paired with the BM25-best *other* context of the training
set that does not contain the answer (one window, CLS target): the on-topic passages the
retriever hands the reader at answer time, where it must say "not here". With
``removal_rate`` a share of the questions is also paired with its own context minus the
sentences that hold the answer (one window, CLS target): the same topic and wording with
only the asked-for fact gone, like a plausible question the article does not answer.
With ``answerable_weight`` the model also gets an answerability head (one logit from the final
[CLS] state: "this window holds the answer", binary cross-entropy beside the span loss, the
internal "verifier" of Retro-Reader), and the windows of unanswerable questions teach only
that head: they leave the span loss, so spans are learnt from answerable questions alone.
A checkpoint (trainable weights, optimiser, step) is written every ``save_every`` steps;
the shippable fp16 overlay is exported beside it at the same time.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from qa.cpu import native_bf16
from qa.answer_form import sentence_bounds
from qa.e5 import PAD_TOKEN, load_tokenizer
from qa.reader import ANSWERABLE_HEAD, add_answerable_head, encode_windows, load_model
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
    bf16: bool | None = None  # None: bf16 autocast only where the CPU has native bf16 (qa.cpu)
    oversample: dict[str, int] = field(default_factory=dict)  # file name -> times its questions are used
    answerable_weight: float = 0.0  # > 0: train an answerability head, its loss weighted by this
    head_lr: float = 1e-3  # the answerability head's learning rate (it starts untrained)


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


def _atomic_save(obj, path: Path, saver) -> None:
    tmp = path.with_name(path.name + ".tmp")
    saver(obj, str(tmp))
    os.replace(tmp, path)


def export_overlay(model, path: Path) -> None:
    """Write the trained tensors as one fp16 safetensors file."""
    from safetensors.torch import save_file

    state = {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items()}
    _atomic_save(state, path, save_file)


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
    _atomic_save(dict(ids=ids, starts=starts, ends=ends, key=np.array(key)), cached, lambda d, p: np.savez(open(p, "wb"), **d))
    return ids, starts, ends


@dataclass
class Run:
    """The model, optimiser, LR schedule and step of a training run, resumable from a checkpoint."""

    model: object
    optimizer: object
    schedule: object
    step: int = 0

    @classmethod
    def start(cls, init: Path | None, cfg: TrainConfig, total: int, checkpoint: Path) -> "Run":
        """AdamW with linear warm-up and decay over ``total`` steps; resumed from ``checkpoint`` if it exists."""
        import torch

        model = load_model(init)
        if cfg.answerable_weight and not hasattr(model, ANSWERABLE_HEAD):
            add_answerable_head(model)
        model.train()
        head = [p for n, p in model.named_parameters() if n.startswith(ANSWERABLE_HEAD + ".")]
        rest = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith(ANSWERABLE_HEAD + ".")]
        groups = [{"params": rest}] + ([{"params": head, "lr": cfg.head_lr}] if head else [])
        optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
        warm = max(1, int(total * cfg.warmup))
        schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: min((step + 1) / warm, max(0.0, (total - step) / max(1, total - warm))))
        run = cls(model, optimizer, schedule)
        if checkpoint.is_file():
            state = torch.load(checkpoint, weights_only=False)
            model.load_state_dict(state["model"], strict=False)
            optimizer.load_state_dict(state["optimizer"])
            schedule.load_state_dict(state["schedule"])
            run.step = state["step"]
            print(f"resumed from step {run.step}", flush=True)
        return run

    def save(self, checkpoint: Path, overlay: Path) -> None:
        """The checkpoint (weights, optimiser, schedule, step) and the shippable fp16 overlay."""
        import torch

        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(), "schedule": self.schedule.state_dict(), "step": self.step}
        _atomic_save(state, checkpoint, torch.save)
        export_overlay(self.model, overlay)


def batch_loss(model, input_ids, attention_mask, starts, ends, answerable_weight: float):
    """Mean span cross-entropy (start and end averaged) over the windows whose targets are not
    -1, plus ``answerable_weight`` × the answerability head's binary cross-entropy over all
    windows (target: the window holds the answer). Without the weight, -1 targets count as CLS."""
    import torch
    import torch.nn.functional as F

    if not answerable_weight:
        starts, ends = starts.clamp(min=0), ends.clamp(min=0)
    hidden = model.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    start_logits, end_logits = model.qa_outputs(hidden).float().unbind(-1)
    kept = max(1, int((starts >= 0).sum()))
    loss = (F.cross_entropy(start_logits, starts, ignore_index=-1, reduction="sum") + F.cross_entropy(end_logits, ends, ignore_index=-1, reduction="sum")) / (2 * kept)
    if answerable_weight:
        logit = getattr(model, ANSWERABLE_HEAD)(hidden[:, 0]).float().squeeze(-1)
        loss = loss + answerable_weight * F.binary_cross_entropy_with_logits(logit, (starts > 0).float())
    return loss


def train(train_files: list[str], out: Path, cfg: TrainConfig, init: Path | None = None, max_steps: int | None = None) -> Path:
    """Train (or resume from ``out/checkpoint.pt``) and return the exported overlay path."""
    import torch
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    tokenizer = load_tokenizer()
    ids, starts, ends = prepare_windows(train_files, out, cfg, tokenizer, random.Random(cfg.seed))
    steps_per_epoch = len(ids) // cfg.batch_size
    total = cfg.total_steps or int(steps_per_epoch * cfg.epochs)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    bf16 = native_bf16() if cfg.bf16 is None else cfg.bf16
    checkpoint, overlay = out / "checkpoint.pt", out / "reader.safetensors"
    run = Run.start(init, cfg, total, checkpoint)
    (out / "train_config.json").write_text(json.dumps({**asdict(cfg), "bf16": bf16, "train_files": train_files, "windows": len(ids), "total_steps": total}, indent=2))
    params = [p for p in run.model.parameters() if p.requires_grad]
    last = min(total, max_steps or total)
    bar = tqdm(total=last, initial=run.step, desc="train", mininterval=10)
    losses: list[float] = []
    started = time.time()
    while run.step < last:
        epoch, within = divmod(run.step, steps_per_epoch)
        batch = np.random.default_rng(cfg.seed + epoch).permutation(len(ids))[within * cfg.batch_size : (within + 1) * cfg.batch_size]
        input_ids = torch.from_numpy(ids[batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = batch_loss(
                run.model,
                input_ids,
                (input_ids != tokenizer.token_to_id(PAD_TOKEN)).long(),
                torch.from_numpy(starts[batch]),
                torch.from_numpy(ends[batch]),
                cfg.answerable_weight,
            )
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        run.optimizer.step()
        run.schedule.step()
        run.optimizer.zero_grad(set_to_none=True)
        run.step += 1
        losses.append(loss.item())
        bar.update(1)
        bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}", lr=f"{run.schedule.get_last_lr()[0]:.2e}", refresh=False)
        if run.step % cfg.save_every == 0 or run.step == last:
            run.save(checkpoint, overlay)
            print(f"step {run.step}/{total} loss {np.mean(losses[-cfg.save_every:]):.4f} {time.time() - started:.0f}s", flush=True)
    return overlay
