"""2-D projections of chunk vectors for the embedding map.

PCA (via numpy's SVD) is the default: deterministic, instant at this scale, and a query lands
where the same linear map puts it, so its position is comparable with the chunks'. UMAP keeps
local neighbourhoods better but distorts global distance; it is offered only when `umap` is
importable. Either way a 2-D picture of 384-D cosine geometry is a sketch, not the ranking.
"""
from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

import numpy as np

METHODS = {
    "pca": "PCA: the two directions of greatest spread (linear, deterministic)",
    "umap": "UMAP: keeps near neighbours near (non-linear; global distances are not meaningful)",
}


def available_methods() -> tuple[str, ...]:
    return ("pca", "umap") if importlib.util.find_spec("umap") is not None else ("pca",)


@dataclass(frozen=True, eq=False)
class Projection:
    points: np.ndarray  # (n, 2): one row per input vector
    extra: np.ndarray  # (m, 2): the extra vectors (queries) placed by the same map
    method: str
    explained: tuple[float, ...] = field(default=())  # PCA: share of variance per axis


def _as_matrix(vectors: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(vectors, dtype=np.float64)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be a 2-D array (one row per vector); got shape {arr.shape}.")
    return arr


def project(vectors: np.ndarray, *, extra: np.ndarray | None = None, method: str = "pca", seed: int = 0) -> Projection:
    """Map `vectors` (and `extra`, by the same map) to two dimensions."""
    if method not in METHODS:
        raise ValueError(f"Unknown projection '{method}'. Choose one of: {', '.join(METHODS)}.")
    x = _as_matrix(vectors, "vectors")
    if len(x) == 0:
        raise ValueError("There are no vectors to project: build the index first.")
    q = _as_matrix(extra, "extra") if extra is not None and len(extra) else np.zeros((0, x.shape[1]))
    if q.shape[1] != x.shape[1]:
        raise ValueError(f"Extra vectors have {q.shape[1]} dimensions; the chunks have {x.shape[1]}.")
    if method == "umap":
        return _umap(x, q, seed)
    return _pca(x, q)


def _pca(x: np.ndarray, q: np.ndarray) -> Projection:
    mean = x.mean(axis=0)
    centred = x - mean
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    components = np.zeros((2, x.shape[1]))
    n = min(2, len(vt))
    components[:n] = vt[:n]
    # SVD's signs are arbitrary; fix them so the same data always draws the same way round.
    for row in components:
        if row.any() and row[np.argmax(np.abs(row))] < 0:
            row *= -1
    variance = s**2
    total = float(variance.sum())
    explained = tuple(float(v / total) if total else 0.0 for v in list(variance[:2]) + [0.0] * (2 - n))
    return Projection(centred @ components.T, (q - mean) @ components.T, "pca", explained)


def _umap(x: np.ndarray, q: np.ndarray, seed: int) -> Projection:
    if "umap" not in available_methods():
        raise ValueError("UMAP needs the umap-learn package, which is not installed; use PCA.")
    if len(x) < 5:
        raise ValueError(f"UMAP needs at least 5 chunks; the index has {len(x)}. Use PCA.")
    import umap  # optional dependency

    reducer = umap.UMAP(n_components=2, n_neighbors=min(15, len(x) - 1), metric="cosine", random_state=seed)
    points = reducer.fit_transform(x)
    extra = reducer.transform(q) if len(q) else np.zeros((0, 2))
    return Projection(np.asarray(points, dtype=np.float64), np.asarray(extra, dtype=np.float64), "umap")
