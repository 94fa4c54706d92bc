"""The Answer section of the Retrieval page: extractive by default, an LLM when one is configured.

The page calls `render_answer(query, hits, built, query_vector)` after the hit cards; it returns the ranks
the shown answer cites, so the page can badge those cards. Citations link to `#hit-{rank}`
anchors that the page places in each card with `hit_anchor(rank)`; the cited cards are also
outlined here with a style rule on their `st-key-hit_{rank}` class, so the mark shows even where
the page adds no badge.

Every computation lives in core (answer, providers, prices, ragas_adapter; the HTML is built by
core.render); this module only lays them out, remembers a generated answer across reruns, and
never holds an API key (core.providers reads it from the environment or st.secrets at the moment
it builds the client).
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from core import model, prices, providers, ragas_adapter
from core.answer import (
    EXTRACTIVE_LABEL,
    GROUNDING_LABEL,
    Answer,
    Grounding,
    check_grounding,
    extractive_answer,
    parse_answer,
)
from core.prompt import DEFAULT_TEMPLATE, build_prompt, validate_template
from core.render import answer_html, cited_style
from core.retrieval import Hit
from ui import state
from ui.text import md

EXTRACTIVE = "extractive"
# st.session_state keys owned by this module.
TEMPLATE_KEY = "answer_template"
PROVIDER_KEY = "answer_provider"
TEMPERATURE_KEY = "answer_temperature"
GENERATE_KEY = "answer_generate"
RESET_KEY = "answer_template_reset"
RAGAS_KEY = "answer_ragas"
_GENERATED = "_answer_generated"  # GeneratedAnswer of the latest generation, or absent
_EXTRACTIVE_CACHE = "_answer_extractive"  # (key, Answer, Grounding) of the latest extractive answer


@dataclass(frozen=True)
class GeneratedAnswer:
    key: tuple  # everything the answer depends on: query, hits, provider, model, temperature, template
    provider_label: str
    model: str
    answer: Answer | None  # None when the provider failed before any text arrived
    grounding: Grounding | None
    error: providers.ProviderError | None
    seconds: float
    first_token_seconds: float | None
    usage: providers.Usage
    price: prices.ModelPrice | None
    cost: float | None
    ragas: float | None = None
    ragas_error: str = ""


# --- helpers the page may call ------------------------------------------------------------


def hit_anchor(rank: int) -> None:
    """An anchor the answer's [rank] citations jump to: call it first inside each hit card."""
    st.html(f'<a id="hit-{int(rank)}"></a>')


def mark_cited(badges: Mapping[int, Any], cited: frozenset[int]) -> None:
    """Fill per-card placeholders (rank -> st.empty()) with a badge on the cited cards."""
    for rank, slot in badges.items():
        if rank in cited:
            slot.markdown(":green-badge[:material/format_quote: cited in the answer]")


# --- state -----------------------------------------------------------------------------------


def _secrets() -> Mapping:
    try:
        return st.secrets
    except Exception:  # no secrets file: an empty mapping is the honest answer
        return {}


def _secret_values() -> tuple[str, ...]:
    """Every key value we could be using, so error texts can be redacted (never shown or kept)."""
    values = []
    for spec in providers.PROVIDERS.values():
        key, _ = providers.find_key(spec.key_names, environ=os.environ, secrets=_secrets())
        if key:
            values.append(key)
    return tuple(values)


@st.cache_data(ttl=60, show_spinner=False)
def _ollama_models() -> tuple[str, ...] | None:
    # Cached: with no server running, each probe costs its whole timeout.
    return providers.probe_ollama()


def _hits_key(hits: Sequence[Hit]) -> tuple:
    return tuple((h.rank, h.chunk.doc, h.chunk.start, h.chunk.end) for h in hits)


def _extractive(query: str, hits: Sequence[Hit], built: state.BuiltIndex,
                query_vector: np.ndarray) -> tuple[Answer, Grounding]:
    key = (query, _hits_key(hits), built.retriever.embedder.model_id, id(built.retriever))
    cached = st.session_state.get(_EXTRACTIVE_CACHE)
    if cached is not None and cached[0] == key:
        return cached[1], cached[2]
    answer = extractive_answer(query, hits, sentences=built.sentences, query_vector=query_vector,
                               idf=built.retriever.bm25.idf)
    grounding = check_grounding(answer, hits, sentences=built.sentences)
    st.session_state[_EXTRACTIVE_CACHE] = (key, answer, grounding)
    return answer, grounding


def _reset_template() -> None:
    state.set_widget(TEMPLATE_KEY, DEFAULT_TEMPLATE)


def current_template() -> str:
    """The prompt template the user has set here (the default until edited; invalid ones excluded).

    The page's prompt preview can use it so that the preview shows what would be sent.
    """
    template = state.widget_value(TEMPLATE_KEY, DEFAULT_TEMPLATE) or DEFAULT_TEMPLATE
    try:
        validate_template(template)
    except ValueError:
        return DEFAULT_TEMPLATE
    return template


# --- the section ------------------------------------------------------------------------------


def render_answer(query: str, hits: Sequence[Hit], built: state.BuiltIndex, query_vector: np.ndarray) -> frozenset[int]:
    """Draw the Answer section; return the hit ranks the shown answer cites.

    `query_vector` is the one the search used: the question is embedded once per question."""
    st.subheader("Answer")
    if not query.strip() or not hits:
        st.info("An answer needs a question and at least one retrieved chunk.")
        return frozenset()
    ranks = {h.rank for h in hits}

    statuses = providers.discover(environ=os.environ, secrets=_secrets(), ollama_models=_ollama_models())
    available = {s.spec.name: s for s in statuses if s.available}
    options = [EXTRACTIVE, *available]
    if PROVIDER_KEY not in st.session_state:
        # Offer the LLM first when one is configured (it still waits for a click: it costs money).
        st.session_state[PROVIDER_KEY] = options[1] if len(options) > 1 else EXTRACTIVE
    elif st.session_state[PROVIDER_KEY] not in options:
        st.session_state[PROVIDER_KEY] = EXTRACTIVE  # a provider that went away falls back, no crash
    c1, c2, c3 = st.columns([2, 2, 1])
    provider = c1.selectbox(
        "Answer with",
        options,
        key=PROVIDER_KEY,
        format_func=lambda name: "Extractive (no LLM, $0)" if name == EXTRACTIVE else available[name].spec.label,
        help="Extractive quotes the best sentences of the retrieved chunks. LLM providers appear when their "
        "integration package is installed and an API key (or a local Ollama server) is available.",
    )
    with st.expander("Providers", expanded=False):
        for s in statuses:
            mark = ":green[available]" if s.available else ":gray[not available]"
            st.markdown(f"**{s.spec.label}**: {mark} · {s.reason}")
        st.caption("Keys are read from the environment or Streamlit secrets when a request is made; "
                   "they are never stored or shown.")

    with st.spinner("Finding the answer in the retrieved chunks..."):
        extractive, extractive_grounding = _extractive(query, hits, built, query_vector)
    generated: GeneratedAnswer | None = None
    gen_key: tuple | None = None

    if provider != EXTRACTIVE:
        status = available[provider]
        model_name = c2.selectbox("Model", list(status.models), key=f"answer_model_{provider}")
        temperature = c3.slider("Temperature", 0.0, 1.0, 0.0, 0.1, key=TEMPERATURE_KEY)
        state.keep_widget(TEMPLATE_KEY, DEFAULT_TEMPLATE)  # edits survive choosing extractive and back
        with st.expander("Prompt template", expanded=False):
            template = st.text_area(
                "Template ({context} and {question} are filled in)", key=TEMPLATE_KEY, height=200
            )
            st.button("Reset to the default template", key=RESET_KEY, on_click=_reset_template)
        template_error = ""
        try:
            validate_template(template)
        except ValueError as exc:
            template_error = str(exc)
            st.error(template_error)
        prompt = build_prompt(query, hits, template=template if not template_error else DEFAULT_TEMPLATE)
        price = prices.model_price(provider, model_name)
        estimate = "" if price is None else (
            f" · about ${prices.answer_cost(providers.Usage(prompt.n_tokens, 300, False), price):.4f} "
            "with a 300-token answer"
        )
        st.caption(f"Prompt: about {prompt.n_tokens:,} tokens{estimate}.")
        gen_key = (query, _hits_key(hits), provider, model_name, temperature, template)
        clicked = st.button("Generate answer", key=GENERATE_KEY, type="primary", disabled=bool(template_error))
        stored = st.session_state.get(_GENERATED)
        if clicked:
            generated = _generate(gen_key, status, model_name, temperature, prompt.text, hits, built, price)
        elif stored is not None and stored.key == gen_key:
            generated = stored
        elif stored is not None:
            st.caption("The question, hits or settings changed since the last generated answer: generate again.")
        else:
            st.caption(f"Press **Generate answer** to ask {status.spec.label}; until then the free extractive "
                       "answer is shown.")

    if generated is not None:
        cited = _show_generated(generated, ranks, extractive, extractive_grounding, query, hits)
    else:
        cited = _show_extractive(extractive, extractive_grounding, ranks)
    if cited:
        st.html(cited_style(cited))
    return cited


def _generate(key: tuple, status: providers.ProviderStatus, model_name: str, temperature: float,
              prompt_text: str, hits: Sequence[Hit], built: state.BuiltIndex,
              price: prices.ModelPrice | None) -> GeneratedAnswer:
    """Stream one answer from the provider into the page; every failure becomes a message."""
    config = providers.GenerationConfig(provider=status.spec.name, model=model_name, temperature=temperature)
    secrets = _secret_values()
    stream: providers.AnswerStream | None = None
    error: providers.ProviderError | None = None
    box = st.empty()
    try:
        chat = providers.build_chat_model(config, environ=os.environ, secrets=_secrets())
    except Exception as exc:  # package broken, key vanished: a message, not a traceback
        error = providers.classify_error(exc, secrets=secrets)
    else:
        stream = providers.AnswerStream(chat, prompt_text, secrets=secrets)
        with box.container():
            st.caption(f"{status.spec.label} · {md(model_name)} · streaming...")
            st.write_stream(stream)
        error = stream.error
    box.empty()  # the final, linked rendering replaces the raw stream
    text = stream.text if stream else ""
    answer = parse_answer(text, hits, seconds=stream.seconds) if stream and text.strip() else None
    grounding = check_grounding(answer, hits, sentences=built.sentences) if answer else None
    usage = stream.usage(model.count_tokens) if stream else providers.Usage(0, 0, False)
    result = GeneratedAnswer(
        key=key,
        provider_label=status.spec.label,
        model=model_name,
        answer=answer,
        grounding=grounding,
        error=error,
        seconds=stream.seconds if stream else 0.0,
        first_token_seconds=stream.first_token_seconds if stream else None,
        usage=usage,
        price=price,
        cost=prices.answer_cost(usage, price) if stream else 0.0,
    )
    st.session_state[_GENERATED] = result
    return result


def _show_extractive(answer: Answer, grounding: Grounding, ranks: set[int], *, fallback: bool = False) -> frozenset[int]:
    left, right = st.columns([3, 1])
    with left:
        with st.container(border=True, key="answer_extractive"):
            st.caption(
                ("Shown instead: " if fallback else "")
                + EXTRACTIVE_LABEL
                + ". Best-matching sentence first; each cites the hit it comes from."
            )
            if answer.empty:
                st.warning("None of the retrieved chunks has a sentence to quote.")
            else:
                st.html(answer_html(answer, grounding, ranks))
    with right:
        st.metric("Latency", f"{(answer.seconds + grounding.seconds) * 1000:.0f} ms",
                  help="Scoring the retrieved sentences with the local model, plus the grounding check.")
        st.metric("Tokens in / out", "0 / 0", help="No LLM is called.")
        st.metric("Cost", "$0.00", help="Runs on this machine with the bundled embedding model.")
    _show_grounding(grounding, key="answer_grounding_extractive")
    return answer.cited


def _show_generated(gen: GeneratedAnswer, ranks: set[int], extractive: Answer, extractive_grounding: Grounding,
                    query: str, hits: Sequence[Hit]) -> frozenset[int]:
    if gen.error is not None:
        st.error(f"{gen.provider_label} ({md(gen.model)}): {md(gen.error.message)}")
        st.caption(f"Details: {md(gen.error.detail)}" + (" · worth retrying" if gen.error.retryable else ""))
    if gen.answer is None:
        return _show_extractive(extractive, extractive_grounding, ranks, fallback=True)
    left, right = st.columns([3, 1])
    with left:
        with st.container(border=True, key="answer_generated"):
            partial = " (incomplete: the stream stopped early)" if gen.error else ""
            st.caption(f"Generated by {gen.provider_label} · {gen.model}{partial}. Citations link to the hit cards.")
            st.html(answer_html(gen.answer, gen.grounding, ranks))
            if gen.answer.invalid_citations:
                numbers = ", ".join(f"[{n}]" for n in gen.answer.invalid_citations)
                st.caption(f":red[The answer cites {numbers}, which no retrieved passage has.]")
            if not gen.answer.cited:
                st.caption(":orange[The answer cites no passage.]")
    with right:
        first = f"first token {gen.first_token_seconds:.2f} s" if gen.first_token_seconds is not None else ""
        st.metric("Latency", f"{gen.seconds:.2f} s", help=first or None)
        measured = "reported by the provider" if gen.usage.measured else (
            "estimated with the embedding model's tokenizer (the provider sent no counts)")
        st.metric("Tokens in / out", f"{gen.usage.input_tokens:,} / {gen.usage.output_tokens:,}", help=measured)
        if gen.cost is None:
            st.metric("Cost", "unknown", help="No price is known for this model.")
        else:
            source = gen.price.source if gen.price else ""
            st.metric("Cost", f"${gen.cost:.5f}", help=(
                f"{gen.usage.input_tokens:,} × ${gen.price.input_per_mtok}/1M + {gen.usage.output_tokens:,} × "
                f"${gen.price.output_per_mtok}/1M. Prices: {source}" if gen.price else None))
    if gen.grounding is not None:
        _show_grounding(gen.grounding, key="answer_grounding_generated")
        _offer_ragas(gen, query, hits)
    with st.expander("Extractive answer for comparison ($0, no LLM)", expanded=False):
        st.html(answer_html(extractive, extractive_grounding, ranks))
    return gen.answer.cited


def _show_grounding(grounding: Grounding, *, key: str) -> None:
    flagged = len(grounding.flagged)
    total = len(grounding.sentences)
    title = (f"Grounding check (heuristic): :orange[{flagged} of {total} sentences weakly supported]"
             if flagged else f"Grounding check (heuristic): all {total} sentences supported")
    with st.expander(title, expanded=bool(flagged)):
        st.caption(GROUNDING_LABEL + f" A sentence is flagged below a support of {grounding.threshold:.2f} or "
                   "when it states a figure the closest retrieved sentences do not contain.")
        rows = [
            {
                "sentence": s.text,
                "cites": ", ".join(f"[{c}]" for c in s.citations) or "none",
                "support": round(s.support, 2),
                "cosine": round(s.cosine, 2),
                "word overlap": round(s.overlap, 2),
                "verdict": s.reason,
                "closest retrieved sentence": f"[{s.best_rank}] {s.best_source}" if s.best_rank else "",
            }
            for s in grounding.sentences
        ]
        st.dataframe(rows, key=key, hide_index=True, width="stretch")


def _offer_ragas(gen: GeneratedAnswer, query: str, hits: Sequence[Hit]) -> None:
    """RAGAS faithfulness with the same provider as judge: optional, costs extra calls."""
    if not ragas_adapter.ragas_available():
        st.caption("An LLM-judged faithfulness score is available with `pip install ragas`.")
        return
    if gen.ragas is not None:
        st.metric("RAGAS faithfulness (LLM judge)", f"{gen.ragas:.2f}")
        return
    if gen.ragas_error:
        st.caption(f":orange[RAGAS failed: {md(gen.ragas_error)}]")
    if gen.answer is not None and st.button("Score faithfulness with RAGAS (extra LLM calls)", key=RAGAS_KEY):
        config = providers.GenerationConfig(provider=gen.key[2], model=gen.model, temperature=0.0)
        try:
            chat = providers.build_chat_model(config, environ=os.environ, secrets=_secrets())
            with st.spinner("RAGAS: the model checks each claim against the retrieved chunks..."):
                score = ragas_adapter.ragas_faithfulness(
                    chat, question=query, answer=gen.answer.text, contexts=[h.chunk.text for h in hits]
                )
            updated = _replace(gen, ragas=score)
        except Exception as exc:
            updated = _replace(gen, ragas_error=providers.classify_error(exc, secrets=_secret_values()).message)
        st.session_state[_GENERATED] = updated
        st.rerun()


def _replace(gen: GeneratedAnswer, **changes) -> GeneratedAnswer:
    from dataclasses import replace

    return replace(gen, **changes)
