"""Prices the cost calculator starts from, each with where it came from.

Per-token inference and embedding prices are read from genai-prices. Its price data ships inside
the package; we only ever read that bundled snapshot and never start its `UpdatePrices` background
fetcher, so looking a price up makes no network request. Prices are asked for a small request
(1,000 tokens each way) and scaled to a million tokens, because some models (Claude Sonnet 4.5) are
tiered and a literal 1M-token request would be billed at the long-prompt rate.

Training prices and vector-database rates are not carried by any library: they live in the small
table below, every row with its source and the date it was listed. Every number is only a starting
value; the cost page lets the user overwrite it.

The Answer section prices one generated answer from the same genai-prices data (`model_price`,
`answer_cost`), with a short list of list prices behind it for models the data does not know.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from core.providers import PROVIDERS, Usage

PER_MTOK = 1_000_000
_PROBE_TOKENS = 1_000  # small enough to stay in every model's base price tier


@dataclass(frozen=True)
class TokenPrice:
    model_ref: str
    provider_id: str
    input_per_mtok: float
    output_per_mtok: float
    source: str


@dataclass(frozen=True)
class ManualRate:
    id: str
    label: str
    amount: float
    unit: str
    source: str
    as_of: str


# Our own table: what no pricing library carries. Keep one row per figure, with its source.
TRAINING_RATES: dict[str, ManualRate] = {
    r.id: r
    for r in (
        ManualRate("openai-gpt-4o-mini", "OpenAI fine-tuning, gpt-4o-mini-2024-07-18", 3.00,
                   "USD per 1M training tokens", "OpenAI API pricing page, fine-tuning section "
                   "(https://openai.com/api/pricing/)", "2025 list price"),
        ManualRate("openai-gpt-4o", "OpenAI fine-tuning, gpt-4o-2024-08-06", 25.00,
                   "USD per 1M training tokens", "OpenAI API pricing page, fine-tuning section "
                   "(https://openai.com/api/pricing/)", "2025 list price"),
    )
}

VECTOR_DB_RATES: dict[str, ManualRate] = {
    r.id: r
    for r in (
        ManualRate("local-faiss", "Local FAISS index (what this app uses)", 0.0, "USD per month",
                   "Runs inside the app's own process; the server it runs on is not counted",
                   "2026"),
        ManualRate("pinecone-starter", "Pinecone Starter (free tier)", 0.0, "USD per month",
                   "docs.pinecone.io, 'Understanding cost': minimum usage table", "2025-07"),
        ManualRate("pinecone-standard", "Pinecone Standard (monthly minimum usage)", 50.0,
                   "USD per month", "docs.pinecone.io, 'Understanding cost': minimum usage table",
                   "2025-07"),
        ManualRate("guide-upper", "Serverless vector DB, mid-size index (upper end)", 70.0,
                   "USD per month", "REFERENCE.md: 2026 practitioner's guide, $0-70 per month",
                   "2026"),
    )
}

LOCAL_EMBEDDING = ManualRate(
    "local-minilm", "Bundled all-MiniLM-L6-v2 (runs locally)", 0.0, "USD per 1M tokens",
    "Runs on your own CPU; compute is not counted", "2026",
)


@dataclass(frozen=True)
class ModelPreset:
    id: str
    label: str
    model_ref: str
    provider_id: str
    fine_tuned_ref: str | None  # genai-prices reference for the tuned model's inference price
    training_rate: str | None   # key in TRAINING_RATES
    note: str = ""


PRESETS: dict[str, ModelPreset] = {
    p.id: p
    for p in (
        # genai-prices matches tuned OpenAI models by prefix ("ft:gpt-4o-mini-2024-..."), so a dated
        # snapshot name is needed to reach the tuned price.
        ModelPreset("gpt-4o-mini", "OpenAI gpt-4o-mini", "gpt-4o-mini", "openai",
                    "ft:gpt-4o-mini-2024-07-18", "openai-gpt-4o-mini"),
        ModelPreset("gpt-4o", "OpenAI gpt-4o", "gpt-4o", "openai", "ft:gpt-4o-2024-08-06", "openai-gpt-4o"),
        ModelPreset("claude-haiku-4-5", "Anthropic Claude Haiku 4.5", "claude-haiku-4-5", "anthropic",
                    None, None, "Anthropic's API offers no self-serve fine-tuning: the tuned-model "
                    "prices are set to the base model's and the training price is left as it was."),
        ModelPreset("claude-sonnet-4-5", "Anthropic Claude Sonnet 4.5", "claude-sonnet-4-5", "anthropic",
                    None, None, "Anthropic's API offers no self-serve fine-tuning: the tuned-model "
                    "prices are set to the base model's and the training price is left as it was."),
    )
}

EMBEDDING_PRESETS: dict[str, tuple[str, str] | None] = {
    "text-embedding-3-small": ("text-embedding-3-small", "openai"),
    "text-embedding-3-large": ("text-embedding-3-large", "openai"),
    "local-minilm": None,  # priced from LOCAL_EMBEDDING
}


def library_version() -> str:
    from genai_prices import __version__

    return __version__


@lru_cache(maxsize=64)
def token_price(model_ref: str, *, provider_id: str) -> TokenPrice:
    """USD per 1M input/output tokens for `model_ref` from genai-prices' bundled data.

    Raises LookupError (from genai-prices) when the model is unknown.
    """
    from genai_prices import Usage, calc_price

    calc = calc_price(
        Usage(input_tokens=_PROBE_TOKENS, output_tokens=_PROBE_TOKENS), model_ref, provider_id=provider_id
    )
    scale = PER_MTOK / _PROBE_TOKENS
    url = (calc.provider.pricing_urls or [""])[0]
    source = f"genai-prices {library_version()} bundled data, {calc.provider.name}" + (f" ({url})" if url else "")
    return TokenPrice(
        model_ref=model_ref,
        provider_id=calc.provider.id,
        input_per_mtok=round(float(calc.input_price) * scale, 6),
        output_per_mtok=round(float(calc.output_price) * scale, 6),
        source=source,
    )


@dataclass(frozen=True)
class PresetPrices:
    preset: ModelPreset
    base: TokenPrice
    fine_tuned: TokenPrice | None
    training: ManualRate | None


def preset_prices(preset_id: str) -> PresetPrices:
    try:
        preset = PRESETS[preset_id]
    except KeyError:
        raise ValueError(f"Unknown model preset '{preset_id}'. Choose one of: {', '.join(PRESETS)}.") from None
    base = token_price(preset.model_ref, provider_id=preset.provider_id)
    tuned = token_price(preset.fine_tuned_ref, provider_id=preset.provider_id) if preset.fine_tuned_ref else None
    training = TRAINING_RATES[preset.training_rate] if preset.training_rate else None
    return PresetPrices(preset, base, tuned, training)


@dataclass(frozen=True)
class EmbeddingPrice:
    id: str
    per_mtok: float
    source: str


def embedding_price(preset_id: str) -> EmbeddingPrice:
    if preset_id not in EMBEDDING_PRESETS:
        raise ValueError(
            f"Unknown embedding preset '{preset_id}'. Choose one of: {', '.join(EMBEDDING_PRESETS)}."
        )
    ref = EMBEDDING_PRESETS[preset_id]
    if ref is None:
        return EmbeddingPrice(preset_id, LOCAL_EMBEDDING.amount, LOCAL_EMBEDDING.source)
    price = token_price(ref[0], provider_id=ref[1])
    return EmbeddingPrice(preset_id, price.input_per_mtok, price.source)


# --- per-answer prices (the Answer section) ---------------------------------------------------


@dataclass(frozen=True)
class ModelPrice:
    input_per_mtok: float
    output_per_mtok: float
    source: str


# Used only when token_price cannot price a model (unknown to its data): list prices, USD / 1M.
_FALLBACK_PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
    "claude-haiku-4-5": (1.00, 5.00),
    "claude-sonnet-4-5": (3.00, 15.00),
}


def model_price(provider: str, model: str) -> ModelPrice | None:
    """Per-1M-token prices for `model`; $0 for a local server; None when unknown."""
    if PROVIDERS.get(provider) and PROVIDERS[provider].local:
        return ModelPrice(0.0, 0.0, "local model: runs on your machine, compute not counted")
    try:
        p = token_price(model, provider_id=provider)
        return ModelPrice(p.input_per_mtok, p.output_per_mtok, p.source)
    except Exception:  # unknown model, or the price data unavailable
        pass
    if model in _FALLBACK_PRICES:
        pin, pout = _FALLBACK_PRICES[model]
        return ModelPrice(pin, pout, "built-in fallback list price (2025)")
    return None


def answer_cost(usage: Usage, price: ModelPrice | None) -> float | None:
    if price is None:
        return None
    return (usage.input_tokens * price.input_per_mtok + usage.output_tokens * price.output_per_mtok) / PER_MTOK
