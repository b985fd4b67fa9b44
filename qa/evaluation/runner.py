"""Batch evaluation, the one core behind ``qa eval`` and the scripts in ``eval/``.

Files: the article question set (``.jsonl``) or a SQuAD v1.1/v2.0 file, read question by
own paragraph (``reader`` mode, many questions' windows per forward pass) or open-domain
over all its paragraphs (``open``). Scores follow the official CMRC 2018 metric
(:mod:`qa.evaluation.metrics`); a question with no gold answer scores 100 when the system abstains.

Each outcome keeps the system's best admissible answer (the one shown, or the guess withheld),
its confidence and its grade, so one pass gives the strict view (only ``sure`` answers count as
answered), the shown view (``sure`` and ``unsure``) and the scores at the best threshold (the
SQuAD 2.0 convention). Reader mode on a file without unanswerable questions (CMRC, DRCD)
always answers, as those benchmarks are scored.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from qa.answering.abstention import passage_coverage
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
    answer: str  # the best admissible answer, shown or withheld
    confidence: float
    grade: str  # sure, unsure or none (qa.answering.policy.GRADES)
    seconds: float
    passage: str = ""
    relevant_rank: int | None = None  # 1-based rank of the first retrieved chunk holding a gold answer
    signals: object = None  # qa.answering.calibration.Signals of the answer (None when no span was admissible)
    phrase: str = ""  # a sentence answer's own span (qa.types.Answer.phrase)
    rules: tuple[str, ...] = ()  # the answer steps that changed the answer (qa.types.Answer.rules)
    coverage: float = 1.0  # the share of the question's content the best passage read holds (qa.answering.abstention.passage_coverage)

    def prediction(self, view: str) -> str:
        """The answer counted in ``view`` (:data:`VIEWS`): ``strict``, only a ``sure`` one;
        ``shown``, a ``sure`` or ``unsure`` one; ``all``, the best answer whatever its grade."""
        return self.answer if self.grade in VIEWS[view] else ""

    def to_json(self) -> dict:
        """The ``qa eval --outcomes`` row: what grading and calibration read again."""
        return {
            "id": self.case.id, "source": self.case.source, "golds": self.case.golds, "answer": self.answer, "grade": self.grade,
            "confidence": self.confidence, "features": self.signals.features() if self.signals else None, "coverage": self.coverage,
        }


VIEWS = {"strict": ("sure",), "shown": ("sure", "unsure"), "all": ("sure", "unsure", "none")}


def outcome(case: Case, answer, seconds: float, passage: str = "", rank: int | None = None) -> Outcome:
    """The outcome of ``answer`` (:class:`qa.types.Answer`), scored on its best answer: the one shown, or the guess withheld."""
    best = answer.guess if answer.abstained and answer.guess else answer
    covered = passage_coverage(answer.understood_as or case.question, answer.passages)
    return Outcome(case, best.answer, answer.confidence, answer.grade, seconds, passage, rank, answer.signals, best.phrase, best.rules, covered)


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
    shaping, selection, the calibrated confidence with the support counted in the paragraph, the
    grade and the place steps); ``seconds`` is the batch's time per question."""
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
                answer = pipeline.answer(case.question, case.question, judged, hits, lambda _, text=case.context: text, None, {})
                outcomes.append(outcome(case, answer, each, case.context))
            bar.update(len(part))
    return outcomes


def answer_all(cases: list[Case], assistant, k: int | None, reread: bool | None = None) -> list[Outcome]:
    """Full pipeline: retrieve, read, answer and grade; records the rank of the first relevant
    chunk among the top 5."""
    assistant.ask(cases[0].question, k=k, reread=reread)  # warm-up, not timed
    outcomes = []
    for case in tqdm(cases, desc="answering", file=sys.stderr, mininterval=5):
        answer = assistant.ask(case.question, k=k, reread=reread)
        hits = assistant.retriever.search(case.question, k=5)
        rank = first_relevant_rank([h.text for h in hits], case.golds)
        best = answer.guess if answer.abstained and answer.guess else answer
        passage = next((h.text for h in answer.passages if best.doc_id == h.doc_id and h.start <= (best.start or -1) < h.end), hits[0].text if hits else "")
        outcomes.append(outcome(case, answer, answer.timings["total"], passage, rank))
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
        view = "strict" if any(not c.golds for c in cases) else "all"
        return summarise(outcomes, view, False, time.perf_counter() - started), outcomes
    documents = [Document(f"p{i}", text) for i, text in enumerate(squad_paragraphs(path))] if path.suffix == ".json" and not store and not corpus else None
    assistant = Assistant.from_corpus(corpus, documents=documents, store=store, reader_weights=weights or READER_WEIGHTS, settings=settings)
    started = time.perf_counter()
    outcomes = answer_all(cases, assistant, k, reread)
    return summarise(outcomes, "strict", True, time.perf_counter() - started), outcomes


def evaluate_reader(path: str | Path, weights: Path | None = None, limit: int | None = None) -> dict:
    """Reader-only summary on a SQuAD file."""
    return evaluate(Path(path), "reader", weights=weights, limit=limit)[0]


def predictions(outcomes: list[Outcome], view: str) -> dict[str, str]:
    """``{id: answer}`` in ``view`` (``""`` for an answer not counted there)."""
    return {o.case.id: o.prediction(view) for o in outcomes}


def write_report(path: Path, outcomes: list[Outcome], summary: dict, view: str) -> None:
    """Markdown: the summary, then every answer wrong in ``view`` with question, gold, prediction, grade, confidence, passage."""
    lines = ["# Evaluation report", "", "```json", json.dumps(summary, ensure_ascii=False, indent=2), "```", "", "## Wrong answers", ""]
    for o in outcomes:
        prediction = o.prediction(view)
        if exact_match(prediction, o.case.golds):
            continue
        lines += [
            f"### {o.case.id}: {o.case.question}",
            f"- gold: {' | '.join(o.case.golds) or '(not in the text: abstain)'}",
            f"- prediction: {prediction or '(abstained)'}" + (f" (best span: {o.answer})" if o.answer and not prediction else ""),
            f"- grade: {o.grade}; confidence: {o.confidence:.3f}; F1 {100 * f1_score(prediction, o.case.golds):.1f}",
            f"- passage: {o.passage}",
            "",
        ]
    path.write_text("\n".join(lines), encoding="utf-8")
