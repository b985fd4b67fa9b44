"""Fusion of the retriever's rankings (its document joiner): reciprocal-rank fusion, except that
a ranker which is sure of its first hit keeps that hit first.

RRF reads ranks only. Over texts whose passages differ only in a number or a name (news:
dates, amounts, codes), BM25 puts the one passage with the number far ahead of the rest while
dense ranking is noise, and equal-weight RRF loses that passage among the noise. A ranking's
*lead* measures how sure it is: its first score's distance to the second, as a share of the
spread of its first :data:`LEAD_SPREAD` scores. A first hit whose ranking leads by at least
the decisive lead goes first (``python -m eval.fusion`` measured the threshold).
"""

from __future__ import annotations

from qa.retrieval.stores.base import Ranking
from qa.settings import FUSION_LEAD
from qa.types import Hit

RRF_K = 60
LEAD_SPREAD = 10  # the lead is measured against the spread of this many top scores


def lead(scores: list[float], spread: int = LEAD_SPREAD) -> float:
    """How far the first of ``scores`` (best first) leads the second, as a share of the spread
    of the first ``spread`` scores: 0 (a tie) to 1 (the rest tied far below); 0 with fewer
    than three scores, where a spread says nothing."""
    top = scores[:spread]
    if len(top) < 3 or top[0] <= top[-1]:
        return 0.0
    return (top[0] - top[1]) / (top[0] - top[-1])


def fuse(rankings: dict[str, Ranking], k: int, decisive_lead: float | None = FUSION_LEAD) -> list[Hit]:
    """Top ``k`` hits: reciprocal-rank fusion of several rankings (by chunk key; ties in text
    order), with the first hit of the ranking that leads most, by at least ``decisive_lead``,
    put first (``None``: plain RRF) and scored as if every ranking had put it first; a single
    ranking keeps its own scores."""
    ranks = {name: {c.chunk_id: r for r, (c, _) in enumerate(ranking, 1)} for name, ranking in rankings.items()}
    chunks = {c.chunk_id: c for ranking in rankings.values() for c, _ in ranking}
    if len(rankings) > 1:
        fused: dict[int, float] = {}
        for per_method in ranks.values():
            for key, r in per_method.items():
                fused[key] = fused.get(key, 0.0) + 1.0 / (RRF_K + r)
        scored = sorted(fused.items(), key=lambda item: (-item[1], chunks[item[0]].doc_id, chunks[item[0]].start))
        if decisive_lead is not None:
            leads = [(lead([s for _, s in ranking]), ranking[0][0].chunk_id) for ranking in rankings.values() if ranking]
            sure, key = max(leads, default=(0.0, None))
            if sure >= decisive_lead:  # first, scored as if every ranking had put it first
                scored = [(key, len(rankings) / (RRF_K + 1))] + [item for item in scored if item[0] != key]
    else:
        ((ranking),) = rankings.values()
        scored = [(c.chunk_id, s) for c, s in ranking]
    hits = []
    for key, score in scored[:k]:
        c = chunks[key]
        hits.append(Hit(c.text, c.doc_id, c.chunk_id, c.start, c.end, float(score), ranks.get("dense", {}).get(key), ranks.get("bm25", {}).get(key)))
    return hits
