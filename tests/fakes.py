"""Deterministic stand-ins for the embedding model, shared by tests of logic that needs vectors."""
from __future__ import annotations

import numpy as np


class WordEmbedder:
    """One dimension per known word: cosine is word overlap (a small offset keeps no vector zero)."""

    model_id = "fake/words"
    vocab = ["refund", "backup", "seat", "invoice", "storage"]
    dimensions = len(vocab)

    def embed(self, texts, *, progress=None):
        out = np.array([[t.lower().count(w) for w in self.vocab] for t in texts], dtype=np.float32) + 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)
