"""core.render.chunk_map_html: the same map as the plain scan it replaced, at near-linear cost."""
from __future__ import annotations

import random

from bench.chunk_map import reference_chunk_map  # the renderer it replaced: the definition of right
from core.chunking import Chunk
from core.render import chunk_map_html


def sliding(text: str, size: int, overlap: int) -> list[Chunk]:
    step = size - overlap
    return [Chunk("d.txt", i, lo, min(lo + size, len(text)), text[lo : lo + size], 1)
            for i, lo in enumerate(range(0, max(len(text) - overlap, 1), step))]


def test_same_output_as_the_plain_scan_on_random_chunkings():
    rng = random.Random(16)
    for _ in range(300):
        text = "".join(rng.choice("ab <&>\n") for _ in range(rng.randint(0, 60)))
        chunks = []
        for i in range(rng.randint(0, 12)):
            lo = rng.randint(0, len(text) + 3)
            chunks.append(Chunk("d", i, lo, lo + rng.randint(0, 15), "", 1))  # gaps, overlaps, empty, past the end
        rng.shuffle(chunks)  # order in the list decides the order of ids in an overlap's title
        limit = rng.choice([5, 30, 40_000])
        assert chunk_map_html(text, chunks, limit=limit) == reference_chunk_map(text, chunks, limit=limit)


def test_same_output_on_a_dense_sliding_window():
    text = "word " * 400
    chunks = sliding(text, 16, 15)
    assert chunk_map_html(text, chunks, limit=1500) == reference_chunk_map(text, chunks, limit=1500)


class Counted:
    """A chunk that counts how often its offsets are read: the renderer's work, without a clock."""

    reads = 0

    def __init__(self, chunk: Chunk) -> None:
        self._c = chunk

    def __getattr__(self, name):
        if name in ("start", "end"):
            Counted.reads += 1
        return getattr(self._c, name)


def _reads(n_chars: int) -> int:
    text = "x" * n_chars
    chunks = [Counted(c) for c in sliding(text, 16, 15)]
    Counted.reads = 0
    chunk_map_html(text, chunks, limit=n_chars)  # type: ignore[arg-type]
    return Counted.reads


def test_the_work_grows_linearly_with_the_number_of_chunks():
    small, large = _reads(500), _reads(5_000)  # ~500 and ~5,000 chunks of size 16, overlap 15
    assert large < 12 * small, (small, large)  # the plain scan read ~100x more at 10x the chunks
