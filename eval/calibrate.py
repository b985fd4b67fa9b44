"""Fit the grades (sure / unsure / none) on graded answers from several sources, hold each source
out in turn, and draw the reliability plot.

    qa eval eval/questions.jsonl --outcomes /tmp/article.jsonl
    qa eval ../shared/qa-data/dev/cmrc2018_dev.json --outcomes /tmp/cmrc.jsonl      # open mode
    qa eval ../shared/qa-data/dev/squad2_zh_dev.json --outcomes /tmp/squad.jsonl
    python -m eval.calibrate /tmp/article.jsonl /tmp/cmrc.jsonl /tmp/squad.jsonl [--plot docs/reliability.png] [--write]

Each row is one question's best answer (shown or withheld), its confidence and features
(``qa eval --outcomes``); a source is a row's ``source`` (the article set's rows have none:
``article``). An answer is right when its F1 against a gold answer is at least 0.5 (never, for
an unanswerable question). The fit, each source weighing the same whatever its size:

- ``sure_from``: the lowest confidence at which sure answers are right at least ``--target``
  of the time on every fit source that can reach it while keeping a quarter of its answerable
  questions sure (a source that cannot is named: no threshold makes its sure answers that right);
- ``unsure_from`` and ``no_answer_margin`` (the reader's margin below which nothing is shown):
  the pair that withholds the most answers (as a share of each source, averaged) while the
  answers it withholds are right at most ``--none-right`` of the time on every fit source: a
  withheld answer is rarely a lost one, and the rest are shown, marked unsure.

It prints the grades' accuracy per source with the shipped bounds, with each source held out
(fitted on the others) and with the fit on all; ``--plot`` draws confidence against accuracy
per source, with the grades' bands (needs matplotlib: ``pip install -e ".[eval]"``);
``--write`` stores the fit on all sources in ``qa/weights/calibration.json``.
"""

from __future__ import annotations

import argparse
import datetime
import json
from pathlib import Path

import numpy as np

from eval.paths import ROOT
from qa.answering.calibration import CALIBRATION_FILE, Calibration
from qa.evaluation.metrics import f1_score

ARTICLE = "article"
KEEP_SURE = 0.25  # a source counts towards sure_from while this share of its answerable questions stays sure
UNSURE_FROM = tuple(round(x, 2) for x in np.arange(0.0, 0.41, 0.01))
MARGINS = (-1000.0, -8.0, -6.0, -5.0, -4.0, -3.0, -2.5, -2.0, -1.5, -1.0, -0.5, 0.0)


class Source:
    """One source's answers as arrays: confidence, reader margin, F1, right, answerable."""

    def __init__(self, name: str, rows: list[dict]):
        self.name, self.n = name, len(rows)
        self.confidence = np.array([r["confidence"] for r in rows])
        self.margin = np.array([r["features"]["margin"] if r["features"] else -1e9 for r in rows])
        self.answerable = np.array([bool(r["golds"]) for r in rows])
        self.f1 = np.array([f1_score(r["answer"], r["golds"]) if r["golds"] else 0.0 for r in rows])
        self.right = self.answerable & (self.f1 >= 0.5)

    def grades(self, sure_from: float, unsure_from: float, margin: float) -> np.ndarray:
        """Each answer's grade, as :class:`qa.answering.policy.AnswerPolicy` gives it: 2 sure, 1 unsure, 0 none."""
        shown = (self.margin >= margin) & (self.confidence >= unsure_from)
        return np.where(shown & (self.confidence >= max(sure_from, unsure_from)), 2, np.where(shown, 1, 0))

    def scores(self, grades: np.ndarray) -> dict:
        """Strict and shown F1 (a withheld answer scores 100 on an unanswerable question), each grade's accuracy, unanswerable ones sure."""
        view = lambda counted: 100 * float(np.where(counted, self.f1, ~self.answerable).mean())  # noqa: E731
        accuracy = lambda g: (float(self.right[grades == g].mean()) if (grades == g).any() else None, int((grades == g).sum()))  # noqa: E731
        return {
            "strict": view(grades == 2), "shown": view(grades >= 1),
            "shown_answerable": 100 * float(np.where(grades >= 1, self.f1, 0)[self.answerable].mean()) if self.answerable.any() else None,
            "sure": accuracy(2), "unsure": accuracy(1), "none": accuracy(0),
            "unanswerable_sure": f"{int(((grades == 2) & ~self.answerable).sum())}/{int((~self.answerable).sum())}",
        }


def fit_sure(sources: list[Source], target: float) -> tuple[float, list[str]]:
    """The lowest threshold at which every source that can reach ``target`` does; the names of those that cannot."""
    candidates = np.unique(np.concatenate([s.confidence for s in sources]))
    reach = {}
    for s in sources:
        ok = [t for t in candidates if (sure := s.confidence >= t).any() and s.right[sure].mean() >= target and (s.answerable & sure).sum() >= KEEP_SURE * s.answerable.sum()]
        reach[s.name] = min(ok) if ok else None
    reachable = [t for t in reach.values() if t is not None]
    return (float(max(reachable)) if reachable else 1.0), [name for name, t in reach.items() if t is None]


def fit(sources: list[Source], target: float, none_right: float) -> tuple[dict, list[str]]:
    """The grades' bounds fitted on ``sources``, and the sources whose sure answers cannot reach ``target``."""
    sure_from, unreachable = fit_sure(sources, target)

    def withheld(s: Source, u: float, m: float) -> np.ndarray:
        return s.grades(sure_from, u, m) == 0

    allowed = [(u, m) for u in UNSURE_FROM for m in MARGINS if all(not (w := withheld(s, u, m)).any() or s.right[w].mean() <= none_right for s in sources)]
    best = max(allowed, key=lambda p: (np.mean([withheld(s, *p).mean() for s in sources]), -p[0]))
    return {"sure_from": round(sure_from, 4), "unsure_from": float(best[0]), "no_answer_margin": float(best[1])}, unreachable


def line(s: Source, bounds: dict) -> str:
    r = s.scores(s.grades(bounds["sure_from"], bounds["unsure_from"], bounds["no_answer_margin"]))
    grade = lambda name: f"{r[name][1]:>5} ({100 * r[name][0]:5.1f} %)" if r[name][0] is not None else f"{r[name][1]:>5} (   —   )"  # noqa: E731
    answerable = f"{r['shown_answerable']:6.2f}" if r["shown_answerable"] is not None else "     —"
    return f"  {s.name:<16} sure {grade('sure')}  unsure {grade('unsure')}  none {grade('none')}  unanswerable sure {r['unanswerable_sure']:>9}  F1 strict {r['strict']:6.2f} shown {r['shown']:6.2f}  shown answerable {answerable}"


def plot(sources: list[Source], bounds: dict, path: Path) -> None:
    """Confidence against accuracy (F1 >= 0.5) per source in ten bins, the grades' bands shaded; per-grade accuracy beside it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    left.axvspan(0, bounds["unsure_from"], color="#e5e7eb", label="none")
    left.axvspan(bounds["unsure_from"], bounds["sure_from"], color="#dbeafe", label="unsure")
    left.axvspan(bounds["sure_from"], 1, color="#fef3c7", label="sure")
    left.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    edges = np.linspace(0, 1, 11)
    for s in sources:
        bins = np.clip(np.digitize(s.confidence, edges) - 1, 0, 9)
        xs, ys, ns = zip(*[(s.confidence[bins == b].mean(), s.right[bins == b].mean(), (bins == b).sum()) for b in range(10) if (bins == b).sum() >= 5])
        left.plot(xs, ys, marker="o", label=f"{s.name} ({s.n})")
    left.set(xlabel="confidence (calibrated)", ylabel="share right (F1 ≥ 0.5)", xlim=(0, 1), ylim=(0, 1), title="Reliability per source (bins of ≥ 5 answers)")
    left.legend(fontsize=8, loc="upper left")
    width = 0.8 / len(sources)
    for i, s in enumerate(sources):
        r = s.scores(s.grades(bounds["sure_from"], bounds["unsure_from"], bounds["no_answer_margin"]))
        values = [r[g][0] or 0 for g in ("sure", "unsure", "none")]
        right.bar(np.arange(3) + i * width, values, width, label=s.name)
    right.axhline(0.85, ls="--", color="grey", lw=1)
    right.set(xticks=np.arange(3) + 0.4 - width / 2, xticklabels=["sure", "unsure", "none (guess)"], ylim=(0, 1), ylabel="share right", title="Accuracy per grade")
    right.legend(fontsize=8)
    fig.suptitle(f"sure from {bounds['sure_from']}, unsure from {bounds['unsure_from']}, none below margin {bounds['no_answer_margin']}", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outcomes", type=Path, nargs="+", help="qa eval --outcomes files")
    parser.add_argument("--target", type=float, default=0.85, help="the share of sure answers that must be right (default 0.85)")
    parser.add_argument("--none-right", type=float, default=0.10, help="the largest share of withheld answers that may be right (default 0.10)")
    parser.add_argument("--plot", type=Path, help="draw the reliability plot of the fit on all sources into this PNG")
    parser.add_argument("--write", action="store_true", help=f"store the fit on all sources in {CALIBRATION_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    rows = [json.loads(x) for path in args.outcomes for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    names = sorted({r["source"] or ARTICLE for r in rows})
    sources = [Source(n, [r for r in rows if (r["source"] or ARTICLE) == n]) for n in names]
    shipped = Calibration.load()
    shipped_bounds = {"sure_from": shipped.sure_from, "unsure_from": shipped.abstain_below, "no_answer_margin": shipped.no_answer_margin}
    print(f"answers: {', '.join(f'{s.name} {s.n}' for s in sources)}; right: F1 >= 0.5; target for sure: {args.target:.0%}")
    print(f"\nshipped: {shipped_bounds}")
    for s in sources:
        print(line(s, shipped_bounds))
    print("\neach source held out (fitted on the others):")
    for s in sources:
        held_out, unreachable = fit([o for o in sources if o is not s], args.target, args.none_right)
        print(line(s, held_out) + f"   [{held_out}{'; cannot reach the target: ' + ', '.join(unreachable) if unreachable else ''}]")
    everywhere, unreachable = fit(sources, args.target, args.none_right)
    print(f"\nfit on all: {everywhere}" + (f"; no threshold makes the sure answers of {', '.join(unreachable)} {args.target:.0%} right" if unreachable else ""))
    for s in sources:
        print(line(s, everywhere))
    if args.plot:
        plot(sources, everywhere, args.plot)
        print(f"reliability plot: {args.plot}")
    if args.write:
        data = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
        data["grades"] = everywhere
        data["grades_fitted"] = {
            "on": [f"{s.name}: {s.n} questions ({int((~s.answerable).sum())} unanswerable), open mode" for s in sources],
            "date": datetime.date.today().isoformat(),
            "method": f"python -m eval.calibrate: sure_from, the lowest confidence at which sure answers are right (F1 >= 0.5) {args.target:.0%} of the time on every source that can reach it; unsure_from and no_answer_margin, the pair withholding the most while withheld answers are right at most {args.none_right:.0%} of the time on every source",
        }
        CALIBRATION_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


if __name__ == "__main__":
    main()
