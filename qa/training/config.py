"""How the reader is fine-tuned: the windows it learns from and the optimiser's settings (``qa train-reader``'s options)."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    bf16: bool | None = None  # None: bf16 autocast only where the CPU has native bf16 (qa.encoders.cpu)
    oversample: dict[str, int] = field(default_factory=dict)  # file name -> times its questions are used
    answerable_weight: float = 0.0  # > 0: train an answerability head, its loss weighted by this
    head_lr: float = 1e-3  # the answerability head's learning rate (it starts untrained)
