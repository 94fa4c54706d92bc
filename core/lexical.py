"""BM25 (Okapi) over chunk texts: our tokenizer, bm25s's sparse index, matched terms for explanations.

The tokenizer is the project's own (identifiers like 'LF-413' count whole and by parts, plural
folding, a short stop list): highlighting and answers read the same terms. The index is bm25s's
eager sparse matrix: every (chunk, term) score is computed once at build time, so a query only adds
up the columns of its terms, in numpy. Scores are the classic Okapi ones: IDF
log(1 + (N - n + 0.5) / (n + 0.5)), term frequency saturating with k1, length-normalised with b.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cached_property, lru_cache
from itertools import chain

import bm25s
import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*")
_SEPARATOR = re.compile(r"[._\-/]")
STOPWORDS = frozenset(
    """a an and are as at be but by can do does for from has have how i if in into is it its
    of on or our so that the their them then there these they this to up was we what when
    where which who why will with you your""".split()
)
# Every byte _WORD cannot match becomes a space, so a text splits (in C) into runs that each hold
# whole matches of _WORD; the exact rule below then runs once per distinct run, not per word.
_WORD_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789._-/"
_TO_SPACE = bytes(c if c in _WORD_BYTES else 0x20 for c in range(256))


def _stem(word: str) -> str:
    # Plural folding only: enough to match "plans"/"plan" without a stemmer's surprises.
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _run_terms(run: bytes) -> tuple[str, ...]:
    """Terms of one run of word and separator characters: the tokenizer's actual rule."""
    terms: list[str] = []
    for match in _WORD.findall(run.decode("ascii")):
        parts = _SEPARATOR.split(match)
        if len(parts) > 1:
            terms.append(match)
        terms.extend(_stem(p) for p in parts if p and p not in STOPWORDS)
    return tuple(terms)


def _runs(text: str) -> list[bytes]:
    # Non-ASCII characters (after lower-casing) cannot be part of a word: '?' then a space.
    return text.lower().encode("ascii", "replace").translate(_TO_SPACE).split()


# Bounded: highlighting and answers tokenize many texts over a long session.
_cached_run_terms = lru_cache(maxsize=1 << 16)(_run_terms)


def tokenize(text: str) -> list[str]:
    """Lower-cased terms; identifiers like 'ERR-403' or 'v2.4.1' count whole and by parts."""
    return list(chain.from_iterable(map(_cached_run_terms, _runs(text))))


class _TermIds(dict):
    """Run -> ids of its terms, numbering new terms as they come: one pass from texts to ids."""

    def __init__(self) -> None:
        super().__init__()
        self.vocab: dict[str, int] = {}

    def __missing__(self, run: bytes) -> tuple[int, ...]:
        vocab = self.vocab
        ids = self[run] = tuple(vocab.setdefault(t, len(vocab)) for t in _run_terms(run))
        return ids


def _count_sorted(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and how often each occurs (np.unique without its copies)."""
    new = np.empty(len(keys), dtype=bool)
    new[:1] = True
    np.not_equal(keys[1:], keys[:-1], out=new[1:])
    first = np.flatnonzero(new)
    del new
    return keys[first], np.diff(first, append=len(keys))


class _Index(bm25s.BM25):
    """bm25s's sparse index, built in a few numpy passes instead of a Python loop per chunk.

    bm25s documents `build_index_from_ids` as the method to override to build differently. The
    result is its own layout (a CSC matrix: a column per term listing its chunks in increasing
    order, each with its precomputed score), so its scoring works unchanged. At 100k chunks its
    stock loop (a Counter and two arrays per chunk, a set intersection per chunk for document
    frequencies) took ~3 s of a ~5 s build; these numpy passes take under 1 s.

    bm25s's "lucene" variant drops Okapi's constant (k1 + 1) numerator; its "atire" term frequency
    keeps it, and with the "lucene" IDF the product is exactly the classic Okapi score this
    project has always shown. tests/test_lexical.py checks the matrix against bm25s's own build.
    """

    def __init__(self, *, k1: float, b: float) -> None:
        super().__init__(k1=k1, b=b, method="atire", idf_method="lucene")

    def build_index_from_ids(self, unique_token_ids, corpus_token_ids, show_progress=True, leave_progress=False):
        n, n_terms = len(corpus_token_ids), len(unique_token_ids)
        lengths = np.fromiter(map(len, corpus_token_ids), dtype=np.int64, count=n)
        # One key (term * n + chunk) per occurrence: sorted, equal keys are one CSC entry (in order:
        # by term, then chunk) and how many there are is the term frequency. Built in place: at
        # 100k chunks each of these arrays is ~70 MB.
        keys = np.fromiter(chain.from_iterable(corpus_token_ids), dtype=np.int64, count=int(lengths.sum()))
        keys *= n
        keys += np.repeat(np.arange(n, dtype=np.int64), lengths)
        keys.sort()
        keys, tf = _count_sorted(keys)
        cols, rows = np.divmod(keys, n)
        del keys
        rows = rows.astype(self.int_dtype)
        df = np.bincount(cols, minlength=n_terms)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))  # Lucene's IDF: never negative
        norm = self.k1 * (1 - self.b + self.b * lengths / max(lengths.mean(), 1e-9))
        # Okapi: idf * tf * (k1 + 1) / (tf + norm), in place
        data = idf[cols]
        del cols
        tf = tf.astype(np.float64)
        data *= tf * (self.k1 + 1)
        tf += norm[rows]
        data /= tf
        del tf
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])
        self.nonoccurrence_array = None  # what bm25s's own build sets for variants without one
        return {"data": data.astype(self.dtype), "indices": rows, "indptr": indptr, "num_docs": n}


class BM25:
    """Okapi BM25 with the usual k1=1.5, b=0.75 and non-negative IDF, backed by bm25s."""

    def __init__(self, texts: Sequence[str], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n = len(texts)
        term_ids = _TermIds()
        ids_of = term_ids.__getitem__
        corpus = [list(chain.from_iterable(map(ids_of, _runs(t)))) for t in texts]
        self.vocab = term_ids.vocab  # term -> id, ids in order of first appearance
        self._index: _Index | None = None
        if self.vocab:  # bm25s needs at least one term; without any, every score is 0
            self._index = _Index(k1=k1, b=b)
            self._index.index((corpus, self.vocab), create_empty_token=False, show_progress=False)
            csc = self._index.scores
            self._data, self._rows, self._starts = csc["data"], csc["indices"], csc["indptr"]

    @cached_property
    def idf(self) -> dict[str, float]:
        """Term -> IDF for every indexed term (built on first use: answers read it, search does not)."""
        if self._index is None:
            return {}
        df = np.diff(self._starts).astype(np.float64)  # a column holds one entry per chunk with the term
        values = np.log1p((self.n - df + 0.5) / (df + 0.5))
        return dict(zip(self.vocab, values.tolist()))  # vocab's order is id order

    def _query_ids(self, query: str) -> list[int]:
        vocab = self.vocab
        return [vocab[t] for t in tokenize(query) if t in vocab]  # repeats count, as Okapi's qtf

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every text for `query` (zeros where no query term occurs)."""
        index = self._index
        ids = self._query_ids(query) if index is not None else []
        if index is None or not ids:
            return np.zeros(self.n, dtype=np.float32)
        return index.get_scores_from_ids(ids)

    def top(self, query: str, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The n best (ids, scores), best first, ties by id; only texts scoring above 0."""
        scores = self.scores(query)
        hits = np.flatnonzero(scores > 0)
        if n <= 0 or not len(hits):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if len(hits) > n:
            # Partition first so only n candidates get sorted. Ties at the cut are settled by id
            # (what a stable full sort would do), so the list does not depend on partition order.
            cut = scores[hits[np.argpartition(-scores[hits], n - 1)[n - 1]]]
            above = hits[scores[hits] > cut]
            hits = np.concatenate([above, hits[scores[hits] == cut][: n - len(above)]])
        order = np.lexsort((hits, -scores[hits]))
        return hits[order], scores[hits[order]]

    def scores_for(self, query: str, ids: Iterable[int]) -> np.ndarray:
        """BM25 scores of the given texts only: a binary search per query term, nothing corpus-wide."""
        ids = np.asarray(list(ids), dtype=np.int64)
        out = np.zeros(len(ids), dtype=np.float32)
        if self._index is None or not len(ids):
            return out
        for term in self._query_ids(query):
            # bm25s's index is CSC: the column of a term lists its chunks in increasing order.
            start, end = self._starts[term], self._starts[term + 1]
            rows = self._rows[start:end]
            at = np.minimum(np.searchsorted(rows, ids), max(len(rows) - 1, 0))
            found = rows[at] == ids
            out[found] += self._data[start:end][at[found]]
        return out

    def matched_terms(self, query: str, text: str) -> tuple[str, ...]:
        present = set(tokenize(text))
        return tuple(dict.fromkeys(t for t in tokenize(query) if t in present))

