import pytest

from qa.ingest.chunks import Chunk
from qa.retrieval.fusion import fuse, lead


def chunks(n: int) -> list[Chunk]:
    return [Chunk(1000 + i, "d", 10 * i, 10 * i + 5, f"c{i}") for i in range(n)]


def test_fusion_keys_by_chunk_and_breaks_ties_in_text_order():
    a, b, c = (Chunk(key, "d", start, start + 5, "x") for key, start in ((900, 10), (5, 0), (77, 20)))
    hits = fuse({"dense": [(a, 0.9), (b, 0.8)], "bm25": [(b, 3.0), (a, 2.0), (c, 1.0)]}, k=3)
    assert [h.chunk_id for h in hits] == [5, 900, 77]  # a and b tie: b starts first
    assert (hits[0].dense_rank, hits[0].bm25_rank, hits[2].dense_rank) == (2, 1, None)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [([3.22, 1.83, 1.82, 1.80, 1.79], 1.39 / 1.43), ([5.0, 5.0, 1.0], 0.0), ([2.0, 1.0, 0.0], 0.5), ([2.0, 1.0], 0.0), ([1.0, 1.0, 1.0], 0.0), ([], 0.0)],
)
def test_the_lead_is_the_first_gap_as_a_share_of_the_spread(scores, expected):
    assert lead(scores) == pytest.approx(expected)


def test_the_lead_looks_only_at_the_top_scores():
    assert lead([3.0, 2.0, 1.5, -100.0], spread=3) == pytest.approx(1 / 1.5)


def test_a_decisive_keyword_hit_goes_first_though_dense_ranks_it_low():
    cs = chunks(20)
    dense = [(c, 0.85 - 0.001 * i) for i, c in enumerate(cs)]  # noise: near-equal scores
    bm25 = [(cs[15], 3.22)] + [(c, 1.83 - 0.001 * i) for i, c in enumerate(cs[:15] + cs[16:])]
    plain = fuse({"dense": dense, "bm25": bm25}, k=3, decisive_lead=None)
    assert cs[15].chunk_id not in [h.chunk_id for h in plain]  # equal-weight RRF loses it
    hits = fuse({"dense": dense, "bm25": bm25}, k=3)
    assert hits[0].chunk_id == cs[15].chunk_id and hits[0].bm25_rank == 1 and hits[0].dense_rank == 16
    assert hits[0].score == pytest.approx(2 / 61) and [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert [h.chunk_id for h in hits[1:]] == [h.chunk_id for h in plain[:2]]


def test_without_a_decisive_ranking_fusion_is_plain_rrf():
    cs = chunks(12)
    dense = [(c, 1.0 - 0.01 * i) for i, c in enumerate(cs)]
    bm25 = [(c, 10.0 - 0.5 * i) for i, c in enumerate(reversed(cs))]
    assert fuse({"dense": dense, "bm25": bm25}, k=5) == fuse({"dense": dense, "bm25": bm25}, k=5, decisive_lead=None)


def test_of_two_decisive_rankings_the_surer_one_goes_first():
    cs = chunks(12)
    dense = [(cs[3], 0.95)] + [(c, 0.80 - 0.001 * i) for i, c in enumerate(cs[:3] + cs[4:])]  # lead ~0.99
    bm25 = [(cs[7], 9.0), *((c, 6.0 - 0.5 * i) for i, c in enumerate(cs[:7] + cs[8:]))]  # lead 0.5
    assert fuse({"dense": dense, "bm25": bm25}, k=3, decisive_lead=0.5)[0].chunk_id == cs[3].chunk_id


def test_a_single_ranking_keeps_its_own_scores():
    cs = chunks(3)
    hits = fuse({"bm25": [(cs[2], 7.0), (cs[0], 1.0)]}, k=5)
    assert [(h.chunk_id, h.score) for h in hits] == [(cs[2].chunk_id, 7.0), (cs[0].chunk_id, 1.0)]
