"""Vector stores: where chunk vectors live and how the dense stage gets its candidates.

A store holds chunks and their L2-normalised vectors and answers "the top N chunks for this query
vector, with their cosine". Retrieval never touches a store's internals: it asks for candidates
(`search`), for the cosine of a few named chunks (`similarity`, for the evidence shown on hits
that came from another stage) and, where a feature needs every vector in memory (MMR, the
embedding map), for `vectors()`, which a store that keeps them elsewhere may answer with None.

Chunk ids are positions in `chunks()`; replacing a document's chunks renumbers them, so callers
re-read ids after a replace. Stores are created by name through `make_store`, so a new backend is
a class plus one `register_store` line (see docs/ARCHITECTURE.md).
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import faiss
import numpy as np

from core.chunking import Chunk


@dataclass(frozen=True)
class StoreFacts:
    """What a page may say about a store, without knowing which one it is."""

    kind: str  # e.g. "FAISS flat inner product (exact)"
    size: int
    dimensions: int
    memory_bytes: int | None  # vectors held in this process; None when they live elsewhere
    exact: bool  # True when search scans every vector (no approximation)


@runtime_checkable
class VectorStore(Protocol):
    """The contract every vector store meets; ids are positions in `chunks()`."""

    name: str

    @property
    def size(self) -> int: ...

    @property
    def dimensions(self) -> int: ...

    def chunks(self) -> Sequence[Chunk]: ...

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(cosines, ids) of the top `n` chunks for one query vector, best first."""
        ...

    def similarity(self, query: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """Cosine of the query with each of `ids` (for evidence, not for ranking)."""
        ...

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None: ...

    def vectors(self) -> np.ndarray | None:
        """Every vector in id order, or None when the store does not keep them in memory."""
        ...

    def facts(self) -> StoreFacts: ...


def _as_matrix(vectors: np.ndarray, dimensions: int | None = None) -> np.ndarray:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2:
        raise ValueError(f"Expected a 2-D array of vectors, got shape {vectors.shape}.")
    if dimensions is not None and len(vectors) and vectors.shape[1] != dimensions:
        raise ValueError(f"This store holds {dimensions}-dimensional vectors; got {vectors.shape[1]}.")
    return vectors


class FaissStore:
    """Exact (flat) inner-product search over normalised vectors: inner product = cosine.

    Exact is right at the scale of a team's documents (10k chunks answer in a few ms). The
    vectors are kept beside the FAISS index as well, so MMR and the embedding map can read them.
    """

    name = "faiss"

    def __init__(self, dimensions: int) -> None:
        # One query at a time is all the app asks: FAISS's OpenMP threads only add a sync per
        # search (measured here, 100k chunks: hybrid p95 32 ms with 2 threads, 8 ms with 1).
        faiss.omp_set_num_threads(1)
        self._dimensions = dimensions
        self._chunks: list[Chunk] = []
        self._vectors = np.zeros((0, dimensions), dtype=np.float32)
        self._index = faiss.IndexFlatIP(dimensions)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = _as_matrix(vectors, self._dimensions)
        if len(chunks) != len(vectors):
            raise ValueError("Need exactly one vector per chunk.")
        if not len(vectors):
            return
        self._chunks.extend(chunks)
        self._vectors = np.vstack([self._vectors, vectors])
        self._index.add(vectors)

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        n = min(n, self.size)
        if n <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, -1))
        scores, ids = self._index.search(q, n)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def similarity(self, query: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        return self._vectors[np.asarray(ids, dtype=np.int64)] @ np.asarray(query, dtype=np.float32)

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = _as_matrix(vectors, self._dimensions)
        keep = [i for i, c in enumerate(self._chunks) if c.doc != doc]
        kept_chunks = [self._chunks[i] for i in keep]
        kept_vectors = self._vectors[keep]
        # A flat index rebuilds in microseconds per thousand vectors: simpler than id maps.
        self._chunks, self._vectors = [], np.zeros((0, self._dimensions), dtype=np.float32)
        self._index = faiss.IndexFlatIP(self._dimensions)
        self.add(kept_chunks + list(chunks), np.vstack([kept_vectors, vectors]))

    def vectors(self) -> np.ndarray | None:
        return self._vectors

    def facts(self) -> StoreFacts:
        return StoreFacts("FAISS flat inner product (exact)", self.size, self._dimensions,
                          self._vectors.nbytes, exact=True)


StoreFactory = Callable[[int], VectorStore]  # dimensions -> an empty store
_STORES: dict[str, StoreFactory] = {}


def register_store(name: str, factory: StoreFactory) -> None:
    """Make a store available by name (settings, pages and benchmarks choose by name)."""
    _STORES[name] = factory


def store_names() -> list[str]:
    return list(_STORES)



def unregister_store(name: str) -> None:
    _STORES.pop(name, None)


def make_store(name: str, dimensions: int) -> VectorStore:
    """An empty store of the named kind."""
    if name not in _STORES:
        raise ValueError(f"Unknown vector store '{name}'. Choose one of: {', '.join(_STORES)}.")
    return _STORES[name](dimensions)


register_store("faiss", FaissStore)
