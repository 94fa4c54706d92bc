"""BM25 (Okapi) over chunk texts, with the matched terms kept for explanations."""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*")
STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from has have how i if in into is it its
    of on or our so that the their them then there these they this to up was we what when
    where which who why will with you your""".split()
)


def _stem(word: str) -> str:
    # Plural folding only: enough to match "plans"/"plan" without a stemmer's surprises.
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[str]:
    """Lower-cased terms; identifiers like 'ERR-403' or 'v2.4.1' count whole and by parts."""
    terms: list[str] = []
    for match in _WORD.findall(text.lower()):
        parts = re.split(r"[._\-/]", match)
        if len(parts) > 1:
            terms.append(match)
        terms.extend(_stem(p) for p in parts if p and p not in STOPWORDS)
    return terms


class BM25:
    """Okapi BM25 with the usual k1=1.5, b=0.75 and non-negative IDF."""

    def __init__(self, texts: list[str], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n = len(texts)
        docs = [Counter(tokenize(t)) for t in texts]
        self.lengths = np.array([sum(d.values()) for d in docs], dtype=np.float32)
        self.avg_len = float(self.lengths.mean()) if self.n else 0.0
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, counts in enumerate(docs):
            for term, tf in counts.items():
                postings[term].append((i, tf))
        self.postings = {
            term: (np.array([i for i, _ in p]), np.array([tf for _, tf in p], dtype=np.float32))
            for term, p in postings.items()
        }
        self.idf = {
            term: math.log(1 + (self.n - len(p) + 0.5) / (len(p) + 0.5)) for term, p in postings.items()
        }

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for `query` (zeros where no query term occurs)."""
        out = np.zeros(self.n, dtype=np.float32)
        if not self.n:
            return out
        norm = self.k1 * (1 - self.b + self.b * self.lengths / max(self.avg_len, 1e-9))
        for term, qtf in Counter(tokenize(query)).items():
            if term not in self.postings:
                continue
            ids, tf = self.postings[term]
            out[ids] += qtf * self.idf[term] * tf * (self.k1 + 1) / (tf + norm[ids])
        return out

    def matched_terms(self, query: str, text: str) -> tuple[str, ...]:
        present = set(tokenize(text))
        return tuple(dict.fromkeys(t for t in tokenize(query) if t in present))
