"""Issue 13's strategies: the semantic splitter, contextual headers, parent-document retrieval and
tunable fusion, as settings, sweep axes and CLI flags. Fast tier uses tests/fakes.py's WordEmbedder."""
from __future__ import annotations

import argparse

import numpy as np
import pytest

from core import headers
from core.chunking import ChunkConfig, NeedsSentences, index_texts, split, split_corpus
from core.documents import Document
from core.evaluation import Question, evaluate, gold_span, is_relevant, passage_span, relevant_ids
from core.parents import ParentIndex, parse_parent
from core.prompt import build_prompt
from core.retrieval import SOURCES, Query, RetrievalConfig, Retriever
from core.semantic import FALLBACK_ONE_SENTENCE, gap_distances, threshold, trace
from core.sentences import SentenceBank
from core.sweep import SweepGrid, confirmation_grids, run_sweep
from tests.fakes import WordEmbedder

REFUND = "A refund is paid to the card used. Ask for a refund within 30 days. The refund takes a week. "
BACKUP = "Backup copies are kept for a year. A backup runs every night. Restore any backup from the console. "
TOPICS = Document(name="topics.txt", text=(REFUND * 2 + "\n\n" + BACKUP * 2).strip(), kind="text")

GUIDE = Document(name="lantern_guide.md", kind="markdown", text=(
    "# Lantern Guide\n\nLantern keeps your notes.\n\n"
    "## Billing\n\n" + "An invoice is sent every month for each seat. " * 6 + "\n\n"
    "### Refunds\n\n" + "A refund is paid within ten days of the request. " * 6 + "\n\n"
    "## Storage\n\n" + "Each backup is kept for a year in two regions. " * 6 + "\n"))
PLAIN = Document(name="release_notes.txt", kind="text",
                 text="the storage limit rose this spring and every backup is now smaller than before.")


def bank_of(*docs: Document) -> SentenceBank:
    return SentenceBank(list(docs), embedder=WordEmbedder())


# -- semantic splitter ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["percentile", "standard_deviation", "interquartile", "gradient"])
@pytest.mark.parametrize("unit,size", [("chars", 400), ("tokens", 60)])
def test_semantic_offsets_are_exact_and_sizes_hold(kind, unit, size):
    config = ChunkConfig(splitter="semantic", unit=unit, size=size, overlap=0, breakpoint=kind, min_size=size // 4)
    chunks = split(TOPICS, config=config, sentences=bank_of(TOPICS))
    assert chunks
    for c in chunks:
        assert TOPICS.text[c.start:c.end] == c.text
        assert (c.n_tokens if unit == "tokens" else len(c.text)) <= size
    assert all(a.end <= b.start for a, b in zip(chunks, chunks[1:]))  # semantic chunks never overlap


def test_semantic_cuts_where_the_topic_changes():
    config = ChunkConfig(splitter="semantic", unit="chars", size=2000, overlap=0, breakpoint="percentile",
                         breakpoint_amount=90)
    chunks = split(TOPICS, config=config, sentences=bank_of(TOPICS))
    switch = TOPICS.text.index("Backup copies")
    assert any(c.start == switch for c in chunks), [c.text[:30] for c in chunks]
    assert all("refund" not in c.text.lower() or "backup" not in c.text.lower() for c in chunks)


def test_thresholds_match_langchains_definitions():
    d = np.array([0.1, 0.2, 0.15, 0.9, 0.12, 0.3])
    assert threshold(d, "percentile", 95)[1] == pytest.approx(np.percentile(d, 95))
    assert threshold(d, "standard_deviation", 3)[1] == pytest.approx(d.mean() + 3 * d.std())
    q1, q3 = np.percentile(d, [25, 75])
    assert threshold(d, "interquartile", 1.5)[1] == pytest.approx(d.mean() + 1.5 * (q3 - q1))
    g, limit = threshold(d, "gradient", 95)
    assert np.allclose(g, np.gradient(d)) and limit == pytest.approx(np.percentile(np.gradient(d), 95))
    v = np.eye(3)
    assert gap_distances(v, buffer=0) == pytest.approx([1.0, 1.0])


def test_semantic_one_sentence_and_no_sentence_fall_back():
    one = Document(name="one.txt", text="Only one sentence lives here.", kind="text")
    config = ChunkConfig(splitter="semantic", unit="chars", size=200, overlap=0)
    t = trace(one.text, config, __import__("core.chunking", fromlist=["doc_sentences"]).doc_sentences(bank_of(one), one))
    assert t.fallback == FALLBACK_ONE_SENTENCE and t.spans == ((0, len(one.text), ""),)
    chunks = split(one, config=config, sentences=bank_of(one))
    assert [c.text for c in chunks] == [one.text]
    long_one = Document(name="long.txt", text="word " * 300 + "end.", kind="text")
    pieces = split(long_one, config=config, sentences=bank_of(long_one))
    assert len(pieces) > 1 and all(long_one.text[c.start:c.end] == c.text and len(c.text) <= 200 for c in pieces)


def test_semantic_needs_the_sentence_vectors_and_says_so():
    with pytest.raises(NeedsSentences, match="sentence vectors"):
        split(TOPICS, config=ChunkConfig(splitter="semantic"))
    other = Document(name="topics.txt", text="Different text now.", kind="text")
    with pytest.raises(NeedsSentences, match="rebuild"):
        split(other, config=ChunkConfig(splitter="semantic"), sentences=bank_of(TOPICS))


def test_semantic_config_is_canonical_and_validated():
    assert ChunkConfig(splitter="semantic", overlap=50).overlap == 0
    assert ChunkConfig(splitter="semantic", breakpoint="interquartile").breakpoint_amount == 1.5
    # Settings a splitter ignores never split a cache key.
    assert ChunkConfig(breakpoint="gradient", min_size=30) == ChunkConfig()
    with pytest.raises(ValueError, match="percentile between 0 and 100"):
        ChunkConfig(splitter="semantic", breakpoint_amount=150)
    with pytest.raises(ValueError, match="Unknown breakpoint"):
        ChunkConfig(splitter="semantic", breakpoint="median")
    with pytest.raises(ValueError, match="smallest chunk"):
        ChunkConfig(splitter="semantic", size=100, min_size=100)


# -- contextual headers ---------------------------------------------------------------------------


def test_titles_and_section_paths():
    assert headers.title_of(GUIDE.name, GUIDE.text) == "Lantern Guide"
    at = GUIDE.text.index("A refund is paid")
    assert headers.header(GUIDE.name, GUIDE.text, at) == "Lantern Guide > Billing > Refunds"
    # No headings, and a first line that reads like a sentence: the file name is the title, alone.
    assert headers.header(PLAIN.name, PLAIN.text, 5) == "release notes"
    assert headers.sections(PLAIN.text) == (headers.Section(0, len(PLAIN.text), ()),)
    # A date is not a numbered heading; "2. Scope" and setext underlines are.
    text = "Notes\n=====\n\n28 February 2026\nFixed things.\n\n2. Scope\nWhat it covers.\n"
    assert [h.title for h in headers.outline(text)] == ["Notes", "2. Scope"]


def test_headers_change_vectors_and_bm25_but_not_text_offsets_or_gold():
    plain = split(GUIDE, config=ChunkConfig(unit="chars", size=200, overlap=0))
    headed = split(GUIDE, config=ChunkConfig(unit="chars", size=200, overlap=0, headers=True))
    assert [(c.start, c.end, c.text, c.n_tokens) for c in plain] == [(c.start, c.end, c.text, c.n_tokens) for c in headed]
    assert all(c.header == "" for c in plain) and all(c.header.startswith("Lantern Guide") for c in headed)
    assert all(c.indexed_text.endswith(c.text) for c in headed)
    emb = WordEmbedder()
    r_plain, r_head = Retriever.build(plain, embedder=emb), Retriever.build(headed, embedder=emb)
    refunds = [i for i, c in enumerate(headed) if "Refunds" in c.header and "refund" not in c.text.lower()]
    i = next(i for i, c in enumerate(headed) if c.header.endswith("Refunds"))
    # The header "...Refunds" puts the word in what is embedded: the vectors differ.
    assert not np.allclose(r_plain.vectors[i], r_head.vectors[i]) or refunds == []
    # BM25 now matches a word that is only in the header ("lantern" is in the title, not the text).
    storage = next(i for i, c in enumerate(headed) if c.header.endswith("Storage"))
    assert "lantern" not in headed[storage].text.lower()
    assert r_plain.bm25.scores_for("lantern", [storage])[0] == 0.0
    assert r_head.bm25.scores_for("lantern", [storage])[0] > 0.0
    # Gold spans and relevance are read from the text, never the header.
    q = Question("How long is a backup kept?", ("a year",), GUIDE.name, "Each backup is kept for a year")
    docs = {GUIDE.name: GUIDE}
    assert gold_span(q, GUIDE) == passage_span(q, GUIDE)
    assert relevant_ids(plain, q, docs) == relevant_ids(headed, q, docs)
    assert [is_relevant(c, q, docs) for c in plain] == [is_relevant(c, q, docs) for c in headed]
    # The prompt shows the header line and the chunk's own text.
    hits = r_head.search("backup kept", config=RetrievalConfig(method="bm25", k=1))
    prompt = build_prompt("How long?", hits)
    assert "Lantern Guide > Storage" in prompt.context and hits[0].chunk.text in prompt.context
    assert index_texts(headed) == [c.indexed_text for c in headed]


# -- parent-document retrieval ----------------------------------------------------------------------


def _guide_retriever(**kw) -> tuple[list, Retriever]:
    chunks = split(GUIDE, config=ChunkConfig(unit="chars", size=120, overlap=20))
    return chunks, Retriever.build(chunks, embedder=WordEmbedder(), documents=[GUIDE], **kw)


@pytest.mark.parametrize("parent", ["section", "window:1", "window:3"])
def test_parent_expansion_never_duplicates_a_parent(parent):
    chunks, r = _guide_retriever()
    hits = r.search("refund invoice backup seat", config=RetrievalConfig(method="bm25", k=8, parent=parent))
    assert hits
    passages = [h.passage for h in hits]
    for a in range(len(passages)):
        for b in range(len(passages)):
            if a != b:
                assert not passages[a].contains(passages[b]), (passages[a].label, passages[b].label)
    for h in hits:
        p = h.parent
        assert p is not None and GUIDE.text[p.start:p.end] == p.text
        assert p.start <= h.chunk.start and h.chunk.end <= p.end  # the child is inside its parent
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))


def test_section_parent_is_the_enclosing_section_and_metrics_use_it():
    chunks, r = _guide_retriever()
    i = next(i for i, c in enumerate(chunks) if "refund is paid" in c.text)
    p = r.parents().parent(i, parse_parent("section"), 4096)
    assert p.text.startswith("### Refunds") and "## Storage" not in p.text
    # A question whose answer is in the section but not in the matched chunk is a hit via its parent.
    q = Question("When is the refund paid?", ("### Refunds",), GUIDE.name)
    docs = {GUIDE.name: GUIDE}
    none_run = evaluate(r, [q], docs, config=RetrievalConfig(method="bm25", k=1))
    parent_run = evaluate(r, [q], docs, config=RetrievalConfig(method="bm25", k=1, parent="section"))
    assert parent_run.summary.hit >= none_run.summary.hit
    assert parent_run.results[0].seen[0][0].end - parent_run.results[0].seen[0][0].start == p.end - p.start \
        or parent_run.summary.tokens > none_run.summary.tokens


def test_a_parent_over_the_budget_falls_back_to_a_window_that_fits():
    chunks, r = _guide_retriever()
    long_plain = Document(name="notes.txt", text=" ".join([PLAIN.text] * 5), kind="text")
    plain_chunks = split(long_plain, config=ChunkConfig(unit="chars", size=50, overlap=0))
    index = ParentIndex(plain_chunks, {long_plain.name: long_plain})
    p = index.parent(3, parse_parent("section"), 24)  # the whole document is one section, ~75 tokens
    assert "over the 24-token parent budget" in p.note and p.tokens <= 24
    assert long_plain.text[p.start:p.end] == p.text and p.start <= plain_chunks[3].start < plain_chunks[3].end <= p.end
    assert p.end - p.start > plain_chunks[3].end - plain_chunks[3].start  # neighbours were added
    tiny = index.parent(3, parse_parent("section"), 2)
    assert (tiny.start, tiny.end) == (plain_chunks[3].start, plain_chunks[3].end) and "the chunk alone" in tiny.note
    with pytest.raises(ValueError, match="need the documents"):
        ParentIndex(chunks, {}).parent(0, parse_parent("section"), 1000)


def test_parent_mode_parsing():
    assert str(parse_parent(" Window:2 ")) == "window:2"
    for bad in ("window:0", "window:11", "chapter", "window"):
        with pytest.raises(ValueError, match="none', 'section' or 'window:N'"):
            parse_parent(bad)
    with pytest.raises(ValueError, match="parent budget"):
        RetrievalConfig(parent="section", parent_budget=0)


# -- fusion ---------------------------------------------------------------------------------------


TEXTS = ["refund refund policy", "backup and storage", "seat invoice refund", "storage storage backup",
         "invoice for each seat", "refund backup seat storage invoice invoice", "nothing relevant here", "backup"]


def _fusion_retriever() -> Retriever:
    chunks = [__import__("core.chunking", fromlist=["Chunk"]).Chunk("d.txt", i, i * 50, i * 50 + len(t), t, 3)
              for i, t in enumerate(TEXTS)]
    return Retriever.build(chunks, embedder=WordEmbedder())


@pytest.mark.parametrize("fusion", ["rrf", "zscore", "minmax"])
@pytest.mark.parametrize("query", ["refund seat", "storage backup invoice"])
def test_fusion_weights_zero_and_one_reduce_to_the_single_rankers(fusion, query):
    r = _fusion_retriever()
    qv = r.embed_queries([query])[0]
    q = Query(query, qv, r)
    depth = len(TEXTS)
    dense = list(SOURCES["dense"].candidates(q, depth).ids)
    bm25 = list(SOURCES["bm25"].candidates(q, depth).ids)
    only_dense = r.ranking(query, qv, config=RetrievalConfig(fusion=fusion, dense_weight=1.0))
    only_bm25 = r.ranking(query, qv, config=RetrievalConfig(fusion=fusion, dense_weight=0.0))
    assert only_dense == dense
    assert only_bm25[: len(bm25)] == bm25
    # At 0 the chunks BM25 does not find follow in dense order.
    assert only_bm25[len(bm25):] == [i for i in dense if i not in bm25]


def test_fusion_evidence_shows_the_arithmetic():
    r = _fusion_retriever()
    hit = r.search("refund seat", config=RetrievalConfig(fusion="zscore", dense_weight=0.3, k=1))[0]
    detail = hit.evidence_of("zscore").detail
    assert "0.3 x" in detail and "0.7 x" in detail and "mean" in detail and "sd" in detail
    e_dense, e_bm25 = hit.evidence_of("dense"), hit.evidence_of("bm25")
    assert e_dense is not None and e_bm25 is not None
    rrf = r.search("refund seat", config=RetrievalConfig(fusion="rrf", dense_weight=0.25, k=1))[0]
    assert "0.5/(60+" in rrf.evidence_of("rrf").detail and "1.5/(60+" in rrf.evidence_of("rrf").detail


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan"), "0.5", True])
def test_bad_weights_and_fusions_are_clear_errors(weight):
    with pytest.raises(ValueError, match="dense weight must be a number from 0"):
        RetrievalConfig(dense_weight=weight)


def test_unknown_fusion_and_score_alias():
    with pytest.raises(ValueError, match="Unknown fusion"):
        RetrievalConfig(fusion="borda")
    assert RetrievalConfig(fusion="score").fusion == "zscore"


# -- sweeps and the CLI ---------------------------------------------------------------------------


def test_sweep_covers_every_strategy_axis_in_fast_and_exact_mode():
    questions = [Question("How long is a backup kept?", ("a year",), GUIDE.name),
                 Question("When is a refund paid?", ("ten days",), GUIDE.name)]
    grid = SweepGrid(splitters=("recursive", "semantic"), sizes=(200,), overlaps=(0, 40), ks=(1, 3),
                     methods=("hybrid", "bm25"), unit="chars", headers=(False, True), fusions=("rrf", "zscore"),
                     dense_weights=(0.3, 0.7), parents=("none", "section"))
    # recursive: 2 overlaps x 2 headers; semantic: 1 (no overlap) x 2 headers.
    assert len(grid.chunk_configs()) == 6
    for mode in ("pooled", "exact"):
        result = run_sweep([GUIDE], questions, grid=grid, mode=mode, embedder=WordEmbedder())
        assert len(result.rows) == grid.n_points == 6 * 2 * (2 * 2 * 2 + 2)
        assert {r.parent for r in result.rows} == {"none", "section"}
        assert {r.fusion for r in result.rows if r.method == "hybrid"} == {"rrf", "zscore"}
        assert {r.fusion for r in result.rows if r.method == "bm25"} == {""}
        assert {r.headers for r in result.rows} == {False, True}
        for row in result.rows:
            assert row.chunk_config() in grid.chunk_configs() and row.retrieval_config().parent == row.parent
            assert row.tokens > 0
    confirm = confirmation_grids([ChunkConfig(splitter="semantic", unit="chars", size=200, headers=True)], like=grid)
    assert confirm[0].headers == (True,) and confirm[0].parents == grid.parents and confirm[0].splitters == ("semantic",)


def test_pooled_headers_move_the_vectors_toward_the_header():
    from core.sweep import pooled_vectors

    bank = bank_of(GUIDE)
    plain = split_corpus([GUIDE], config=ChunkConfig(unit="chars", size=200, overlap=0))
    headed = split_corpus([GUIDE], config=ChunkConfig(unit="chars", size=200, overlap=0, headers=True))
    a, b = pooled_vectors(bank, plain), pooled_vectors(bank, headed)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    i = next(i for i, c in enumerate(headed) if c.header.endswith("Refunds"))
    refund = WordEmbedder.vocab.index("refund")
    assert b[i, refund] >= a[i, refund] - 1e-6


def test_cli_defaults_are_the_apps_and_bad_flags_fail():
    from bench._strategy import add_chunking_args, add_retrieval_args, chunk_config, retrieval_config

    parser = argparse.ArgumentParser()
    add_chunking_args(parser)
    add_retrieval_args(parser)
    args = parser.parse_args([])
    assert chunk_config(args) == ChunkConfig()
    assert retrieval_config(args, method="hybrid", k=5) == RetrievalConfig()
    args = parser.parse_args(["--splitter", "semantic", "--no-headers", "--parent", "window:2", "--fusion", "score",
                              "--dense-weight", "0.7", "--unit", "chars", "--chunk-size", "1000", "--overlap", "200"])
    assert chunk_config(args).splitter == "semantic" and chunk_config(args).overlap == 0
    rc = retrieval_config(args, method="hybrid", k=5)
    assert (rc.fusion, rc.dense_weight, rc.parent) == ("zscore", 0.7, "window:2")
    for bad in (["--dense-weight", "1.5"], ["--parent", "chapter"], ["--fusion", "borda"]):
        with pytest.raises(SystemExit):
            parser.parse_args(bad)


# -- with the real model ---------------------------------------------------------------------------


@pytest.mark.model
def test_real_semantic_split_of_the_samples_is_exact(real_embedder, sample_docs):
    bank = SentenceBank(sample_docs, embedder=real_embedder)
    config = ChunkConfig(splitter="semantic", size=254, min_size=32)
    chunks = split_corpus(sample_docs, config=config, sentences=bank)
    by_name = {d.name: d for d in sample_docs}
    assert len(chunks) > len(sample_docs)
    for c in chunks:
        assert by_name[c.doc].text[c.start:c.end] == c.text and c.n_tokens <= 254


@pytest.mark.model
def test_real_headers_and_parents_on_the_samples(real_embedder, sample_docs, sample_questions):
    docs = {d.name: d for d in sample_docs}
    headed = split_corpus(sample_docs, config=ChunkConfig(headers=True))
    r = Retriever.build(headed, embedder=real_embedder, documents=sample_docs)
    plain_vectors = real_embedder.embed([c.text for c in headed[:5]])
    assert not np.allclose(plain_vectors, r.vectors[:5], atol=1e-3)  # the header is embedded
    none = evaluate(r, sample_questions, docs, config=RetrievalConfig(k=5))
    section = evaluate(r, sample_questions, docs, config=RetrievalConfig(k=5, parent="section"))
    # Parents read more text, so they cost more tokens, and they never score fewer relevant hits.
    assert section.summary.tokens > none.summary.tokens
    assert section.summary.hit >= none.summary.hit
