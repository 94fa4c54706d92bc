"""BM25 on bm25s: the same scores as a plain Okapi reference, the fast paths equal to the slow ones."""
from __future__ import annotations

import json
import math
import random
import re
from collections import Counter

import bm25s
import numpy as np
import pytest

from core.chunking import Chunk, ChunkConfig, split_corpus
from core.documents import load_directory
from core.lexical import BM25, STOPWORDS, _stem, tokenize
from core.retrieval import SOURCES, Query, Retriever
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def sample_chunks() -> list[str]:
    docs = load_directory(SAMPLES).documents
    return [c.text for c in split_corpus(docs, config=ChunkConfig())]


@pytest.fixture(scope="module")
def sample_queries() -> list[str]:
    lines = (SAMPLES / "questions.jsonl").read_text().splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()] + [
        "What does error LF-5031 mean?", "plans plan plans", "the of and", "zzzz-unknown",
    ]


def reference_tokenize(text: str) -> list[str]:
    """The tokenizer as first written: one regex match at a time."""
    terms: list[str] = []
    for match in re.findall(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*", text.lower()):
        parts = re.split(r"[._\-/]", match)
        if len(parts) > 1:
            terms.append(match)
        terms.extend(_stem(p) for p in parts if p and p not in STOPWORDS)
    return terms


def reference_scores(texts: list[str], query: str, k1: float = 1.5, b: float = 0.75) -> list[float]:
    """Okapi BM25 straight from the formula, one text at a time."""
    docs = [Counter(tokenize(t)) for t in texts]
    lengths = [sum(d.values()) for d in docs]
    avg = sum(lengths) / len(docs)
    n = len(docs)
    out = []
    for counts, length in zip(docs, lengths):
        score = 0.0
        for term in tokenize(query):  # a repeated query term counts again
            df = sum(term in d for d in docs)
            if term in counts:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                tf = counts[term]
                score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg))
        out.append(score)
    return out


def test_tokenizer_equals_the_regex_rule():
    alphabet = "abcxyzLF019 ._-/\t\n,;:!?'\"()ÉéßİK\u212aǅﬁ"
    rng = random.Random(0)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(3000)]
    texts += ["Error LF-413: upload v2.4.1 to /api/v2/files.", "a..b -x- y__z 9.", "The PLANS plans"]
    for text in texts:
        assert tokenize(text) == reference_tokenize(text), text


def test_identifiers_count_whole_and_by_parts():
    assert tokenize("What does error LF-413 mean?") == ["error", "lf-413", "lf", "413", "mean"]
    bm25 = BM25(["Error LF-413 means the upload is too large.", "Error LF-500 is a timeout.", "Uploads resume."])
    ids, _ = bm25.top("LF-413", 3)
    assert ids.tolist() == [0, 1]  # the whole identifier and 'lf' match 0; only 'lf' matches 1
    assert bm25.matched_terms("what is LF-413?", "see lf-413") == ("lf-413", "lf", "413")


def test_scores_equal_the_reference_on_the_sample_chunks(sample_chunks, sample_queries):
    bm25 = BM25(sample_chunks)
    for query in sample_queries:
        assert bm25.scores(query) == pytest.approx(reference_scores(sample_chunks, query), abs=1e-4), query


def test_idf_is_lucenes_and_covers_every_term(sample_chunks):
    bm25 = BM25(sample_chunks)
    n = len(sample_chunks)
    docs = [set(tokenize(t)) for t in sample_chunks]
    assert set(bm25.idf) == set().union(*docs)
    for term in ("refund", "lf-5031", "lf", "seat"):
        df = sum(term in d for d in docs)
        assert bm25.idf[term] == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))


def test_index_matches_bm25s_own_build(sample_chunks):
    """Our numpy build writes the matrix bm25s's stock build writes for the same variant."""
    ours = BM25(sample_chunks)
    corpus = [[ours.vocab[t] for t in tokenize(text)] for text in sample_chunks]
    stock = bm25s.BM25(k1=1.5, b=0.75, method="atire", idf_method="lucene")
    stock.index((corpus, dict(ours.vocab)), create_empty_token=False, show_progress=False)
    mine = ours._index.scores
    np.testing.assert_array_equal(mine["indptr"], stock.scores["indptr"])
    np.testing.assert_array_equal(mine["indices"], stock.scores["indices"])
    np.testing.assert_allclose(mine["data"], stock.scores["data"], rtol=1e-5)


@pytest.mark.parametrize("n", [1, 3, 10, 50, 10_000])
def test_top_equals_a_stable_full_sort(sample_chunks, sample_queries, n):
    texts = sample_chunks + sample_chunks[:20]  # duplicates: tied scores must break by id
    bm25 = BM25(texts)
    for query in sample_queries:
        scores = bm25.scores(query)
        expected = [i for i in np.argsort(-scores, kind="stable")[:n] if scores[i] > 0]
        ids, top_scores = bm25.top(query, n)
        assert ids.tolist() == expected, query
        assert top_scores.tolist() == scores[expected].tolist()


def test_scores_for_equals_the_full_scores(sample_chunks, sample_queries):
    bm25 = BM25(sample_chunks)
    some = [0, 5, 3, len(sample_chunks) - 1, 5]  # any order, repeats allowed
    for query in sample_queries:
        scores = bm25.scores(query)
        assert bm25.scores_for(query, some).tolist() == pytest.approx(scores[some].tolist(), abs=1e-6)
        assert bm25.scores_for(query, range(len(sample_chunks))) == pytest.approx(scores, abs=1e-6)
    assert bm25.scores_for("refund", []).shape == (0,)


@pytest.mark.parametrize("texts", [[], [""], ["the of and", ""], ["one text only"]])
def test_empty_corpus_and_empty_query_do_not_crash(texts):
    bm25 = BM25(texts)
    for query in ("", "   ", "the", "text", "unknown-term"):
        assert bm25.scores(query).shape == (len(texts),)
        ids, scores = bm25.top(query, 5)
        assert len(ids) == len(scores) <= len(texts)
        assert bm25.scores_for(query, range(len(texts))).shape == (len(texts),)
    assert set(bm25.idf) == {t for text in texts for t in tokenize(text)}


class _NoEmbedder:
    model_id, dimensions = "test/none", 4

    def embed(self, texts, *, progress=None):
        raise AssertionError("the query vector is given")


def test_lexical_source_ranks_and_explains_like_a_full_sort(sample_chunks):
    chunks = [Chunk("d.txt", i, 0, len(t), t, len(t.split())) for i, t in enumerate(sample_chunks)]
    vectors = np.eye(len(chunks), 4, dtype=np.float32) + 0.1
    retriever = Retriever.from_vectors(chunks, vectors / np.linalg.norm(vectors, axis=1, keepdims=True),
                                       embedder=_NoEmbedder())
    query = Query("How much does a seat cost per month?", np.ones(4, dtype=np.float32) / 2, retriever)
    source = SOURCES["bm25"]
    scores = retriever.bm25.scores(query.text)
    ranking = source.candidates(query, 10)
    expected = [i for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]
    assert list(ranking.ids) == expected and ranking.scores == pytest.approx(scores[expected].tolist())
    explained = source.explain(query, expected[:3])
    assert [s for s, _ in explained] == pytest.approx(scores[expected[:3]].tolist())
    assert all("matched " in detail for _, detail in explained)
