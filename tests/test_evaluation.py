"""Question loading, text-tied relevance, metrics, pooled vectors and sweeps."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.chunking import Chunk, ChunkConfig, split_corpus
from core.documents import Document
from core.evaluation import Question, is_relevant, load_questions, score_ranking
from core.sentences import SentenceBank, sentence_spans
from core.sweep import SweepGrid, run_sweep

DOC = Document(name="d.txt", text="Refunds take 30 days. Support answers in 4 hours. Refunds of 30 days are rare.", kind="text")


def chunk(start, end, doc=DOC, index=0):
    return Chunk(doc=doc.name, index=index, start=start, end=end, text=doc.text[start:end], n_tokens=5)


def test_jsonl_reports_broken_lines_and_keeps_good_ones():
    lines = [
        json.dumps({"question": "How long?", "answers": ["30 days"], "source": "d.txt"}),
        "{not json",
        json.dumps({"question": "", "answers": ["x"], "source": "d.txt"}),
        json.dumps({"question": "Who?", "answers": [], "source": "d.txt"}),
        "",
        json.dumps({"question": "When?", "answers": "4 hours", "source": "d.txt", "context": "Support answers in 4 hours."}),
    ]
    qs = load_questions("\n".join(lines).encode(), "q.jsonl")
    assert [q.question for q in qs.questions] == ["How long?", "When?"]
    assert [line for line, _ in qs.errors] == [2, 3, 4]
    assert "JSON" in qs.errors[0][1] and "answers" in qs.errors[2][1]


def test_csv_and_squad_formats():
    csv_text = "question,answers,source,context\nHow long?,30 days|thirty days,d.txt,\n,x,d.txt,\n"
    qs = load_questions(csv_text.encode(), "q.csv")
    assert qs.questions[0].answers == ("30 days", "thirty days") and qs.errors[0][0] == 3
    squad = {"version": "1.1", "data": [{"title": "Fish", "paragraphs": [
        {"context": "Lanternfish glow in the dark.", "qas": [{"id": "1", "question": "What glows?", "answers": [{"text": "Lanternfish", "answer_start": 0}]}]},
        {"context": "They live deep.", "qas": [{"id": "2", "question": "Where?", "answers": [{"text": "deep", "answer_start": 10}]}]}]}]}
    qs = load_questions(json.dumps(squad).encode(), "squad.json")
    assert [d.name for d in qs.documents] == ["Fish.txt"]
    assert qs.documents[0].text == "Lanternfish glow in the dark.\n\nThey live deep."
    assert [q.source for q in qs.questions] == ["Fish.txt", "Fish.txt"] and qs.questions[1].context == "They live deep."


def test_relevance_needs_source_answer_and_gold_span():
    docs = {"d.txt": DOC}
    q = Question("How long do refunds take?", ("30 days",), "d.txt", context="Refunds take 30 days.")
    assert is_relevant(chunk(0, 21), q, docs)
    # Contains the answer but not at the gold passage: not relevant.
    assert not is_relevant(chunk(51, len(DOC.text)), q, docs)
    # Without a context any chunk containing the answer counts.
    assert is_relevant(chunk(51, len(DOC.text)), Question("?", ("30 days",), "d.txt"), docs)
    other = Document(name="e.txt", text=DOC.text, kind="text")
    assert not is_relevant(chunk(0, 21, doc=other), q, {"d.txt": DOC, "e.txt": other})


def test_metrics_by_hand():
    s = score_ranking([7, 3, 9, 4], {3, 4}, k=3)
    assert (s.hit, s.mrr, s.recall) == (1.0, 0.5, 0.5)
    assert s.ndcg == pytest.approx((1 / np.log2(3)) / (1 + 1 / np.log2(3)))
    miss = score_ranking([7, 8], {3}, k=2)
    assert (miss.hit, miss.mrr, miss.recall, miss.ndcg) == (0.0, 0.0, 0.0, 0.0)
    assert score_ranking([1], set(), k=1).recall == 0.0


def test_sentence_spans_cover_every_word_and_cap_long_sentences():
    text = "One. Two three!\n\nFour? " + "word " * 400
    spans = sentence_spans(text)
    covered = {i for s, e in spans for i in range(s, e)}
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert max(e - s for s, e in spans) <= 800


class BagEmbedder:
    model_id, dimensions = "fake/bag", 16

    def embed(self, texts, *, progress=None):
        out = np.zeros((len(texts), 16), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, sum(map(ord, w)) % 16] += 1
        n = np.linalg.norm(out, axis=1, keepdims=True)
        n[n == 0] = 1
        return out / n


def test_pooled_vector_weights_sentences_by_characters_inside():
    bank = SentenceBank([DOC], embedder=BagEmbedder())
    spans = bank.spans["d.txt"]
    # A chunk that is exactly one sentence gets exactly that sentence's vector.
    s, e = spans[1]
    assert np.allclose(bank.pooled([chunk(s, e)])[0], bank.vectors[1], atol=1e-6)
    # A chunk covering sentence 0 and a third of sentence 1 leans towards sentence 0.
    s0, e0 = spans[0]
    part = bank.pooled([chunk(s0, s + (e - s) // 3)])[0]
    assert part @ bank.vectors[0] > part @ bank.vectors[1]
    assert np.linalg.norm(part) == pytest.approx(1.0, abs=1e-5)


def test_sweep_grid_skips_invalid_pairs_and_scores_every_point(sample_docs, sample_questions):
    grid = SweepGrid(sizes=(60, 120), overlaps=(0, 80), ks=(1, 5), methods=("bm25", "hybrid"))
    assert [c.label() for c in grid.chunk_configs()] == ["recursive 60/0 tokens", "recursive 120/0 tokens", "recursive 120/80 tokens"]
    seen = []
    result = run_sweep(sample_docs, sample_questions[:20], grid=grid, mode="pooled", embedder=BagEmbedder(), on_rows=seen.extend)
    assert len(result.rows) == grid.n_points == 12 and seen == list(result.rows)
    for a, b in zip(result.rows[::2], result.rows[1::2]):  # k=1 then k=5 of the same run
        assert a.k == 1 and b.k == 5 and b.hit >= a.hit
    stop = run_sweep(sample_docs, sample_questions[:5], grid=grid, mode="pooled", embedder=BagEmbedder(), should_stop=lambda: True)
    assert stop.cancelled and not stop.rows


@pytest.mark.model
def test_default_config_retrieves_most_sample_answers(real_embedder, sample_docs, sample_questions):
    from core.evaluation import evaluate
    from core.retrieval import RetrievalConfig, Retriever

    chunks = split_corpus(sample_docs, config=ChunkConfig())
    r = Retriever.build(chunks, embedder=real_embedder)
    by_name = {d.name: d for d in sample_docs}
    runs = {m: evaluate(r, sample_questions, by_name, config=RetrievalConfig(method=m, k=5)) for m in ("dense", "bm25", "hybrid")}
    assert runs["hybrid"].summary.hit >= max(runs["dense"].summary.hit, runs["bm25"].summary.hit)
    assert runs["hybrid"].summary.hit > 0.8
    misses = [x for x in runs["dense"].results if not x.scores.hit and x.relevant]
    assert all(x.best_rank and x.best_rank > 5 for x in misses)


def test_pooling_reads_only_what_the_model_would_read():
    from core.model import TEXT_WINDOW
    from core.sentences import visible_end

    text = " ".join(f"w{i}" for i in range(600))
    long = Chunk(doc="long.txt", index=0, start=0, end=len(text), text=text, n_tokens=1200)
    cut = visible_end(long)
    from core import model

    assert model.count_tokens(text[:cut]) == TEXT_WINDOW
    short = chunk(0, 21)
    assert visible_end(short) == short.end


# -- token-level metrics (issue 12) ---------------------------------------------------------


def test_token_metrics_on_hand_made_spans():
    from core.evaluation import Seen, token_scores

    gold = (10, 20)  # 10 gold characters
    a, b, elsewhere = Seen("d.txt", 0, 15, 3), Seen("d.txt", 12, 30, 4), Seen("e.txt", 0, 5, 1)
    t = token_scores([a, b, elsewhere], gold, "d.txt")
    # Union in the source: 0-30 covers all of 10-20. Sent: 15 + 18 + 5 = 38 chars, of which gold
    # 5 (from a) + 8 (from b): the 3 shared gold chars 12-15 are sent twice and counted twice.
    # Retrieved union: 30 + 5 = 35 chars; union with gold: 35.
    assert (t.recall, t.precision, t.iou, t.tokens) == (1.0, 13 / 38, 10 / 35, 8)
    # The same span reached twice (a parent of two children) is sent, counted and paid for once.
    assert token_scores([a, b, elsewhere, a], gold, "d.txt") == t
    part = token_scores([Seen("d.txt", 0, 12, 2)], gold, "d.txt")
    assert (part.recall, part.precision, part.iou) == (0.2, 2 / 12, 2 / 20)
    # The same offsets in another document are not gold.
    assert token_scores([Seen("e.txt", 10, 20, 2)], gold, "d.txt").recall == 0.0
    assert token_scores([a], None, "d.txt").recall == 0.0  # no gold passage: nothing to measure


def test_passage_span_is_the_context_else_the_answer():
    from core.evaluation import passage_span

    with_context = Question("?", ("30 days",), "d.txt", context="Support answers in 4 hours.")
    assert passage_span(with_context, DOC) == (22, 49)
    assert DOC.text[22:49] == "Support answers in 4 hours."
    bare = Question("?", ("nothing here", "30 DAYS"), "d.txt")
    assert passage_span(bare, DOC) == (13, 20) and DOC.text[13:20] == "30 days"
    assert passage_span(Question("?", ("absent",), "d.txt"), DOC) is None


def test_evaluate_measures_what_the_llm_sees_through_the_hook():
    from core.evaluation import Seen, evaluate
    from core.retrieval import RetrievalConfig, Retriever

    chunks = [chunk(0, 21, index=0), chunk(22, 49, index=1), chunk(50, len(DOC.text), index=2)]
    emb = BagEmbedder()
    r = Retriever.from_vectors(chunks, emb.embed([c.text for c in chunks]), embedder=emb)
    q = Question("How long do refunds take?", ("30 days",), "d.txt", context="Refunds take 30 days.")
    config = RetrievalConfig(method="bm25", k=1)
    own = evaluate(r, [q], {"d.txt": DOC}, config=config)
    top = chunks[own.results[0].retrieved[0]]
    expected = (min(top.end, 21) - max(top.start, 0)) / 21 if top.start < 21 else 0.0
    assert own.summary.token_recall == pytest.approx(expected)
    assert own.summary.tokens == top.n_tokens

    def whole_document(c: Chunk) -> tuple[Seen, ...]:
        return (Seen(c.doc, 0, len(DOC.text), 40),)

    parent = evaluate(r, [q], {"d.txt": DOC}, config=config, seen=whole_document)
    assert parent.summary.token_recall == 1.0
    assert parent.summary.token_precision == pytest.approx(21 / len(DOC.text))
    assert parent.summary.tokens == 40


def test_sweep_rows_carry_per_question_scores_that_average_to_the_row(sample_docs, sample_questions):
    grid = SweepGrid(sizes=(80,), overlaps=(0,), ks=(1, 5), methods=("bm25",))
    result = run_sweep(sample_docs, sample_questions[:15], grid=grid, mode="pooled", embedder=BagEmbedder())
    for row in result.rows:
        assert [q.question for q in row.per_question] == [q.question for q in sample_questions[:15]]
        assert {q.source for q in row.per_question} <= {d.name for d in sample_docs}
        assert row.hit == pytest.approx(np.mean([q.scores.hit for q in row.per_question]))
        assert "per_question" not in repr(row)
    one, five = result.rows
    assert np.mean([q.scores.token_recall for q in five.per_question]) >= np.mean([q.scores.token_recall for q in one.per_question])
    assert np.mean([q.scores.tokens for q in five.per_question]) > np.mean([q.scores.tokens for q in one.per_question])
