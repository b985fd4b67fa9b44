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

import io
import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from qa.encoders.reader_backends import load_model, weights_file
from qa.encoders.cache_files import write_atomic
from qa.encoders.cpu import native_bf16
from qa.encoders.e5 import PAD_TOKEN
from qa.encoders.e5.model_files import load_word_embeddings
from qa.encoders.e5.tokens import load_tokenizer
from qa.training.config import TrainConfig
from qa.training.data import prepare_windows

__all__ = ["TrainConfig", "train"]

ANSWERABLE_HEAD = "answerable"  # the answerability head's module name in the model
HEAD_FILE = "answerable.safetensors"  # its exported weights, beside the overlay


def add_answerable_head(model) -> None:
    """Give ``model`` an answerability head (``model.answerable``): one logit from the final
    [CLS] state, "this window holds the answer" (trained with ``TrainConfig.answerable_weight``)."""
    import torch

    setattr(model, ANSWERABLE_HEAD, torch.nn.Linear(model.config.hidden_size, 1))


def _tensors(model, head: bool) -> dict:
    """The model's tensors in fp16: the reader's (``head`` False) or the answerability head's."""
    return {k: v.detach().to("cpu").half().contiguous() for k, v in model.state_dict().items() if k.startswith(ANSWERABLE_HEAD + ".") == head}


def export_overlay(model, path: Path) -> None:
    """Write the trained reader tensors as one fp16 safetensors file, and an answerability head,
    if the model has one, to :data:`HEAD_FILE` beside it."""
    from safetensors.torch import save

    write_atomic(path, save(_tensors(model, head=False)))
    if hasattr(model, ANSWERABLE_HEAD):
        write_atomic(path.with_name(HEAD_FILE), save(_tensors(model, head=True)))


def load_trainable(cache: Path, init: Path | None, answerable: bool = False):
    """The reader to train: ``init``'s overlay (``None``: an untrained head) with, when asked or
    when ``init`` has one beside it, an answerability head."""
    from safetensors.torch import load_file

    model = load_model(cache, init, load_word_embeddings(cache))
    head = weights_file(init).with_name(HEAD_FILE) if init else None
    if answerable or (head and head.is_file()):
        add_answerable_head(model)
    if head and head.is_file():
        getattr(model, ANSWERABLE_HEAD).load_state_dict({k.removeprefix(ANSWERABLE_HEAD + "."): v.float() for k, v in load_file(head).items()})
    return model


@dataclass
class Run:
    """The model, optimiser, LR schedule and step of a training run, resumable from a checkpoint."""

    model: object
    optimizer: object
    schedule: object
    step: int = 0

    @classmethod
    def start(cls, cache: Path, init: Path | None, cfg: TrainConfig, total: int, checkpoint: Path) -> "Run":
        """AdamW with linear warm-up and decay over ``total`` steps; resumed from ``checkpoint`` if it exists."""
        import torch

        model = load_trainable(cache, init, bool(cfg.answerable_weight))
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
        buffer = io.BytesIO()
        torch.save(state, buffer)
        write_atomic(checkpoint, buffer.getvalue())
        export_overlay(self.model, overlay)


def batch_loss(model, input_ids, attention_mask, starts, ends, answerable_weight: float):
    """Mean span cross-entropy (start and end averaged) over the windows whose targets are not
    -1, plus ``answerable_weight`` × the answerability head's binary cross-entropy over all
    windows (target: the window holds the answer). Without the weight, -1 targets count as CLS."""
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


def train(train_files: list[str], out: Path, cfg: TrainConfig, cache: Path, init: Path | None = None, max_steps: int | None = None) -> Path:
    """Train (or resume from ``out/checkpoint.pt``) on the e5 base under ``cache`` and return the exported overlay path."""
    import torch
    from tqdm import tqdm

    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed)
    tokenizer = load_tokenizer(cache)
    ids, starts, ends = prepare_windows(train_files, out, cfg, tokenizer, random.Random(cfg.seed))
    steps_per_epoch = len(ids) // cfg.batch_size
    total = cfg.total_steps or int(steps_per_epoch * cfg.epochs)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    bf16 = native_bf16() if cfg.bf16 is None else cfg.bf16
    checkpoint, overlay = out / "checkpoint.pt", out / "reader.safetensors"
    run = Run.start(cache, init, cfg, total, checkpoint)
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
