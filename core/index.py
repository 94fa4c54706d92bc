"""A FAISS index of normalised vectors: inner product equals cosine similarity."""
from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np


class VectorIndex:
    """Exact (flat) inner-product search; exact is right at the scale of a team's documents."""

    def __init__(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2:
            raise ValueError(f"Expected a 2-D array of vectors, got shape {vectors.shape}.")
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            self.index.add(vectors)

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    @property
    def dimensions(self) -> int:
        return int(self.index.d)

    @property
    def memory_bytes(self) -> int:
        return self.size * self.dimensions * 4

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row; k is capped at the index size."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, self.size)
        if k <= 0:
            empty = np.zeros((len(queries), 0))
            return empty.astype(np.float32), empty.astype(np.int64)
        return self.index.search(queries, k)

    def save(self, path: Path | str) -> None:
        faiss.write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path | str) -> "VectorIndex":
        obj = cls.__new__(cls)
        obj.index = faiss.read_index(str(path))
        return obj
