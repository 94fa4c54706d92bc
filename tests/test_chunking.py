"""core.chunking: exact offsets for every splitter, real overlaps, validation."""
from __future__ import annotations

import pytest

from core import model
from core.chunking import SPLITTERS, ChunkConfig, needs_sentences, split, split_corpus
from core.documents import Document
from core.sentences import SentenceBank
from tests.fakes import WordEmbedder

TEXT = (
    "# Lanternfish Guide\n\nLanternfish syncs notes across devices. It keeps history for 30 days.\n\n"
    "## Plans\n\n" + "The Team plan costs $12 per seat per month and adds shared spaces. " * 12 + "\n\n"
    "## Limits\n\nUploads are capped at 250 MB. Error LF-413 means the file is too large!\n"
    "Is there more? Yes: API calls are limited to 600 per minute.\n"
)
DOC = Document(name="guide.md", text=TEXT, kind="markdown")


def configs():
    for splitter in SPLITTERS:
        units = ["tokens"] if splitter == "tokens" else ["tokens", "chars"]
        for unit in units:
            size, overlap = (40, 10) if unit == "tokens" else (160, 40)
            yield ChunkConfig(size=size, overlap=overlap, splitter=splitter, unit=unit)


@pytest.mark.parametrize("config", list(configs()), ids=lambda c: c.label())
def test_offsets_reproduce_the_text_and_cover_it(config):
    # A splitter that reads sentence vectors gets them from a bank, as the app's index build gives it.
    bank = SentenceBank([DOC], embedder=WordEmbedder()) if needs_sentences(config.splitter) else None
    chunks = split(DOC, config=config, sentences=bank)
    assert len(chunks) > 3
    for c in chunks:
        assert DOC.text[c.start:c.end] == c.text
        assert c.n_tokens == model.count_tokens(c.text)
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # Every word of the document is inside some chunk (splitters only drop whitespace).
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert all(i in covered for i, ch in enumerate(DOC.text) if not ch.isspace())


def test_size_limit_is_respected_in_the_chosen_unit():
    for c in split(DOC, config=ChunkConfig(size=40, overlap=0, unit="tokens")):
        assert c.n_tokens <= 40
    for c in split(DOC, config=ChunkConfig(size=160, overlap=0, unit="chars")):
        assert len(c.text) <= 160


def test_token_windows_overlap_by_exactly_the_overlap():
    chunks = split(DOC, config=ChunkConfig(size=30, overlap=8, splitter="tokens"))
    spans = model.token_spans(DOC.text)
    starts = [s for s, _ in spans]
    for a, b in zip(chunks, chunks[1:]):
        # b starts 30 - 8 = 22 tokens after a, so the two share 8 tokens.
        assert starts.index(b.start) - starts.index(a.start) == 22
        assert a.end > b.start


def test_recursive_overlap_is_real_text_shared_by_neighbours():
    chunks = split(DOC, config=ChunkConfig(size=120, overlap=40, unit="chars"))
    overlapping = [(a, b) for a, b in zip(chunks, chunks[1:]) if a.end > b.start]
    assert overlapping, "the repeated paragraph must produce overlapping chunks"
    for a, b in overlapping:
        shared = DOC.text[b.start:a.end]
        assert a.text.endswith(shared) and b.text.startswith(shared)
        assert len(shared) <= 40


def test_markdown_chunks_never_cross_sections_and_carry_their_path():
    chunks = split(DOC, config=ChunkConfig(size=60, overlap=0, splitter="markdown"))
    limits = [c for c in chunks if "LF-413" in c.text]
    assert limits and limits[0].section == "Lanternfish Guide > Limits"
    assert all(not ("## Plans" in c.text and "## Limits" in c.text) for c in chunks)


def test_sentence_chunks_end_at_sentence_boundaries():
    chunks = split(DOC, config=ChunkConfig(size=100, overlap=0, splitter="sentences", unit="chars"))
    for c in chunks[:-1]:
        assert c.text.rstrip()[-1] in ".!?:" or DOC.text[c.end:c.end + 1] == "\n"


def test_truncation_is_flagged_past_the_model_window():
    chunks = split(DOC, config=ChunkConfig(size=600, overlap=0, splitter="tokens"))
    assert [c.truncated for c in chunks] == [c.n_tokens > model.TEXT_WINDOW for c in chunks]
    long_doc = Document(name="l.txt", text="word " * 400, kind="text")
    assert split(long_doc, config=ChunkConfig(size=300, overlap=0, splitter="tokens"))[0].truncated


def test_the_default_chunking_fits_the_model_window(sample_docs):
    # The shipped default must not trip the Chunking page's own truncation warning.
    assert ChunkConfig().size <= model.TEXT_WINDOW and ChunkConfig().unit == "tokens"
    chunks = split_corpus(sample_docs, config=ChunkConfig())
    assert chunks and not [c.id for c in chunks if c.truncated]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(size=100, overlap=100), "smaller than the chunk size"),
        (dict(size=100, overlap=150), "smaller than the chunk size"),
        (dict(size=100, overlap=-1), "negative"),
        (dict(size=4, overlap=0), "between"),
        (dict(splitter="words"), "Unknown splitter"),
        (dict(unit="pages"), "Unknown unit"),
        (dict(splitter="tokens", unit="chars", size=100, overlap=0), "measures chunks in tokens"),
    ],
)
def test_invalid_configs_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ChunkConfig(**kwargs)


def test_page_numbers_come_from_offsets():
    first = "The first page talks about plans and seats."
    doc = Document(name="p.pdf", text=first + "\n\nThe second page covers refunds and credits.", kind="pdf",
                   page_starts=(0, len(first) + 2))
    chunks = split(doc, config=ChunkConfig(size=50, overlap=0, unit="chars"))
    assert [c.page for c in chunks] == [1, 2]
