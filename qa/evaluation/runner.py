"""Batch evaluation, the one core behind ``qa eval`` and the scripts in ``eval/``.

Files: the article question set (``.jsonl``) or a SQuAD v1.1/v2.0 file, read question by
own paragraph (``reader`` mode, many questions' windows per forward pass) or open-domain
over all its paragraphs (``open``). Scores follow the official CMRC 2018 metric
(:mod:`qa.evaluation.metrics`); a question with no gold answer scores 100 when the system abstains.

Each outcome keeps the system's best admissible answer and its confidence; the abstention
threshold is applied when scoring, so one pass gives the scores at the shipped threshold
and at the best one (the SQuAD 2.0 convention). Reader mode on a file without unanswerable
questions (CMRC, DRCD) always answers, as those benchmarks are scored.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from qa.evaluation.metrics import exact_match, f1_score
from qa.evaluation.summary import first_relevant_rank, summarise
from qa.ingest.squad_files import load_squad, squad_paragraphs
from qa.types import Hit

READER_BATCH = 32  # questions per batched reading in reader mode


@dataclass(frozen=True)
class Case:
    id: str
    question: str
    golds: list[str]
    context: str | None = None  # reader mode: the question's own paragraph
    source: str | None = None  # where the question comes from (per-source scores)


@dataclass
class Outcome:
    case: Case
    answer: str  # the best admissible answer, before the confidence threshold
    confidence: float
    seconds: float
    passage: str = ""
    relevant_rank: int | None = None  # 1-based rank of the first retrieved chunk holding a gold answer
    signals: object = None  # qa.answering.calibration.Signals of the answer (None when no span was admissible)
    phrase: str = ""  # a sentence answer's own span (qa.types.Answer.phrase)
    rules: tuple[str, ...] = ()  # the answer steps that changed the answer (qa.types.Answer.rules)

    def prediction(self, threshold: float) -> str:
        return self.answer if self.confidence >= threshold else ""


def load_cases(path: Path) -> list[Case]:
    """Questions of a ``.jsonl`` set (``id, question, answers``, optionally ``source`` and the
    question's own paragraph, ``context``) or a SQuAD ``.json`` file (the source: its name)."""
    path = Path(path)
    if path.suffix == ".jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        return [Case(str(r["id"]), r["question"], list(r["answers"]), r.get("context"), r.get("source")) for r in rows]
    return [Case(e.id, e.question, [a for a, _ in e.answers], e.context, path.stem) for e in load_squad(path)]


def read_own_paragraphs(cases: list[Case], pipeline, reread: bool | None = None, batch: int = READER_BATCH) -> list[Outcome]:
    """Reader mode: each question against its own paragraph, ``batch`` questions per reading,
    answered by the same answer pipeline as the assistant (:class:`qa.answering.pipeline.AnswerPipeline`:
    shaping, selection, the calibrated confidence with the support counted in the paragraph, and
    the place steps) without abstaining (the threshold is applied when scoring); ``seconds`` is
    the batch's time per question."""
    outcomes = []
    with tqdm(total=len(cases), desc="reading", file=sys.stderr, mininterval=5) as bar:
        for lo in range(0, len(cases), batch):
            part = cases[lo : lo + batch]
            started = time.perf_counter()
            readings = pipeline.reader.run_batch([(c.question, [c.context]) for c in part], reread=reread, shaper=pipeline.shaper)
            each = (time.perf_counter() - started) / len(part)
            for case, reading in zip(part, readings):
                hits = [Hit(case.context, "paragraph", 0, 0, len(case.context), 0.0, 1, 1)]  # ranked first by both, as a question's own paragraph is
                judged = pipeline.judge(case.question, reading.spans, hits)
                answer = pipeline.answer(case.question, case.question, judged, hits, lambda _, text=case.context: text, 0.0, {})
                outcomes.append(Outcome(case, answer.answer, answer.confidence, each, case.context, signals=answer.signals, phrase=answer.phrase, rules=answer.rules))
            bar.update(len(part))
    return outcomes


def answer_all(cases: list[Case], assistant, k: int | None, reread: bool | None = None) -> list[Outcome]:
    """Full pipeline: retrieve, read, answer (never abstaining on confidence: the threshold is
    applied when scoring); records the rank of the first relevant chunk among the top 5."""
    assistant.ask(cases[0].question, k=k, reread=reread)  # warm-up, not timed
    outcomes = []
    for case in tqdm(cases, desc="answering", file=sys.stderr, mininterval=5):
        answer = assistant.ask(case.question, k=k, reread=reread, abstain_below=0.0)
        hits = assistant.retriever.search(case.question, k=5)
        rank = first_relevant_rank([h.text for h in hits], case.golds)
        passage = next((h.text for h in answer.passages if answer.doc_id == h.doc_id and h.start <= (answer.start or -1) < h.end), hits[0].text if hits else "")
        outcomes.append(Outcome(case, answer.answer, answer.confidence, answer.timings["total"], passage, rank, answer.signals, answer.phrase, answer.rules))
    return outcomes


def evaluate(
    path: Path,
    mode: str = "open",
    corpus: list[str] | None = None,
    k: int | None = None,
    weights: Path | None = None,
    reread: bool | None = None,
    settings=None,
    limit: int | None = None,
    store: str | None = None,
) -> tuple[dict, list[Outcome]]:
    """Score the system on ``path`` with ``settings`` (default: :func:`qa.settings.defaults`;
    its ``decisive`` sets the assistant's early stop); returns the summary and the outcomes.
    Open mode reads from ``store`` when given (an archive built with ``qa index --store``),
    else from ``corpus``, else from the file's own paragraphs (a SQuAD file) or the article."""
    from qa.answering.pipeline import AnswerPipeline
    from qa.answering.policy import AnswerPolicy
    from qa.assistant import Assistant
    from qa.ingest.corpus import Document
    from qa.reading.reader import READER_WEIGHTS, Reader
    from qa.settings import defaults

    settings = settings or defaults()
    path = Path(path)
    cases = load_cases(path)[:limit]
    if not cases:
        raise ValueError(f"{path}: no questions")
    started = time.perf_counter()
    if mode == "reader":
        if not all(c.context for c in cases):
            raise ValueError(f"{path}: reader mode needs each question's own paragraph (a SQuAD file, or 'context' in every row)")
        policy = AnswerPolicy.load()
        reader = Reader(weights or READER_WEIGHTS, precision=settings.precision, reread=settings.reread, settled_gap=settings.settled_gap, threads=settings.threads, cache=settings.cache, top_n=settings.top_n)
        outcomes = read_own_paragraphs(cases, AnswerPipeline(policy, reader, settings.sentence_answer_chars, settings.no_passage_below), reread)
        threshold = policy.abstain_below if any(not c.golds for c in cases) else 0.0
        return summarise(outcomes, threshold, False, time.perf_counter() - started), outcomes
    documents = [Document(f"p{i}", text) for i, text in enumerate(squad_paragraphs(path))] if path.suffix == ".json" and not store and not corpus else None
    assistant = Assistant.from_corpus(corpus, documents=documents, store=store, reader_weights=weights or READER_WEIGHTS, settings=settings)
    started = time.perf_counter()
    outcomes = answer_all(cases, assistant, k, reread)
    return summarise(outcomes, assistant.abstain_below, True, time.perf_counter() - started), outcomes


def evaluate_reader(path: str | Path, weights: Path | None = None, limit: int | None = None) -> dict:
    """Reader-only summary on a SQuAD file."""
    return evaluate(Path(path), "reader", weights=weights, limit=limit)[0]


def predictions(outcomes: list[Outcome], threshold: float) -> dict[str, str]:
    """``{id: answer}`` at ``threshold`` (``""`` for an abstention)."""
    return {o.case.id: o.prediction(threshold) for o in outcomes}


def write_report(path: Path, outcomes: list[Outcome], summary: dict) -> None:
    """Markdown: the summary, then every wrong answer with question, gold, prediction, confidence, passage."""
    lines = ["# Evaluation report", "", "```json", json.dumps(summary, ensure_ascii=False, indent=2), "```", "", "## Wrong answers", ""]
    for o in outcomes:
        prediction = o.prediction(summary["threshold"])
        if exact_match(prediction, o.case.golds):
            continue
        lines += [
            f"### {o.case.id}: {o.case.question}",
            f"- gold: {' | '.join(o.case.golds) or '(not in the text: abstain)'}",
            f"- prediction: {prediction or '(abstained)'}" + (f" (best span: {o.answer})" if o.answer and not prediction else ""),
            f"- confidence: {o.confidence:.3f}; F1 {100 * f1_score(prediction, o.case.golds):.1f}",
            f"- passage: {o.passage}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
