"""Index & Retrieval: build the local index, ask, and inspect every retrieved chunk."""
from __future__ import annotations

import time

import streamlit as st

from core import model
from core.evaluation import load_questions
from core.prompt import build_prompt
from core.render import highlight_html
from core.retrieval import MAX_K, METHODS, Hit, RetrievalConfig, scored_evidence
from ui import state, strategy
from ui.answer import current_template, hit_anchor, mark_cited, render_answer
from ui.indexing import build_index
from ui.labelling import label_section
from ui.production_serve import served_config, serving  # issue 14
from ui.resources import SAMPLE_DIR
from ui.text import code, md
from ui.widgets import need_documents


def score_strip(hit: Hit) -> str:
    """Every stage's score on one line, in pipeline order, each shown once with its rank."""
    parts = []
    for e in scored_evidence(hit):
        where = f" (#{e.rank})" if e.rank else ("" if e.used else " (comparison)")
        parts.append(f"{e.label} **{e.value()}**{where}")
    return " · ".join(parts)


st.title("Index & Retrieval")
if not need_documents("index and query them"):
    st.stop()

# The index always follows the current chunks; the vector cache makes a rebuild of unchanged
# chunks cheap, so there is no reason to make the user press a button.
built = build_index()
if built is None:
    st.stop()
built = serving(built)  # issue 14: a published PostgreSQL collection instead, when one is chosen
chunks = built.retriever.chunks
r = built.retriever
facts = r.store.facts()
m1, m2, m3, m4 = st.columns(4)
m1.metric("Vectors", f"{facts.size:,}")
m2.metric("Dimensions", facts.dimensions)
m3.metric("Build time", f"{built.seconds:.2f} s")
m4.metric("Embedded now / from cache", f"{built.embedded:,} / {facts.size - built.embedded:,}",
          help="From cache: texts this session embedded before (another chunking, a cancelled build). "
               "Vectors other sessions computed are reused too, but never counted here, so this number "
               "cannot tell you what anyone else embedded.")
held = f", {facts.memory_bytes / 1024:.0f} KB in memory" if facts.memory_bytes is not None else ""
st.caption(
    f"{facts.kind} over L2-normalised {model.MODEL_ID} vectors (inner product = cosine){held}; "
    f"BM25 over the same {len(chunks):,} chunks ({state.chunk_config().label()}); "
    f"{len(built.sentences):,} sentence vectors for answers and grounding ({built.sentences_embedded:,} embedded now)."
)

st.subheader("Ask")
current = state.retrieval_config()
for key, value in (("retrieval_method", current.method), ("retrieval_k_slider", current.k),
                   ("retrieval_mmr", current.mmr), ("retrieval_mmr_lambda", current.mmr_lambda)):
    state.keep_widget(key, value)
if st.session_state["retrieval_method"] not in METHODS:  # a method that is no longer registered
    st.session_state["retrieval_method"] = RetrievalConfig().method
c1, c2, c3 = st.columns([2, 2, 2])
method = c1.radio("Method", list(METHODS), key="retrieval_method", horizontal=True,
                  format_func=lambda m: METHODS[m].label, help="\n\n".join(m.help for m in METHODS.values()))
k = c2.slider("Top-K", 1, MAX_K, key="retrieval_k_slider")
mmr = c3.toggle("MMR diversity", key="retrieval_mmr", help="Maximal marginal relevance: re-picks the top-K from the candidates, trading relevance for less redundancy.")
mmr_lambda = c3.slider("MMR relevance weight", 0.0, 1.0, key="retrieval_mmr_lambda", step=0.05, disabled=not mmr)
config = RetrievalConfig(method=method, k=k, mmr=mmr, mmr_lambda=mmr_lambda,
                         **strategy.settings(current, method))  # fusion, weight, parent (issue 13)
state.set_retrieval_config(config)
config = served_config(config)  # issue 14: MMR off while serving from PostgreSQL (it needs vectors in memory)
st.caption(f"{METHODS[method].help}. Fusion and re-ordering look at the top {config.candidates} of each list.")

samples = {}
if (SAMPLE_DIR / "questions.jsonl").exists() and any(n in state.documents() for n in {p.name for p in SAMPLE_DIR.iterdir()}):
    samples = {q.question: q for q in load_questions((SAMPLE_DIR / "questions.jsonl").read_bytes(), "questions.jsonl").questions}
if samples:
    # A new pick fills the question box; once the box holds another question, the pick goes back to
    # its placeholder, so the selectbox never shows a question that is not the one asked.
    pick = st.session_state.get("sample_question")
    if pick is not None and pick != st.session_state.get("_last_pick"):
        st.session_state["query"] = pick
    elif pick is not None and st.session_state.get("query") != pick:
        st.session_state["sample_question"] = pick = None
    st.session_state["_last_pick"] = pick
    st.selectbox("Try a sample question", list(samples), index=None, key="sample_question",
                 placeholder="Pick a question from the sample set")
query = st.text_input("Question", key="query", placeholder="e.g. How long are backups kept on the Team plan?")

if not query.strip():
    st.info("Type a question to see which chunks come back.")
    st.stop()

started = time.perf_counter()
query_vector = r.embed_queries([query])[0]  # once per question: the search and the answer share it
hits = r.search(query, config=config, query_vector=query_vector)
elapsed_ms = (time.perf_counter() - started) * 1000
st.caption(f"{len(hits)} hits in {elapsed_ms:.0f} ms")
if not hits:
    st.warning("Nothing matched: BM25 found none of the question's terms. Try dense or hybrid.")

badges = {}
for hit in hits:
    c = hit.chunk
    with st.container(border=True, key=f"hit_{hit.rank}"):
        hit_anchor(hit.rank)  # the target of the answer's [n] links
        badges[hit.rank] = st.empty()  # filled with a "cited" badge once the answer exists
        where = f"page {c.page} · " if c.page else ""
        section = f" · {md(c.section)}" if c.section else ""  # headers come from the document
        st.markdown(f"**#{hit.rank}** · {code(c.doc)} · {where}chars {c.start:,}-{c.end:,} · chunk {c.index}{section}")
        st.markdown(score_strip(hit))
        st.caption("Why here: " + hit.why())
        if c.truncated:
            st.caption(f":orange[This chunk has {c.n_tokens} tokens: the model embedded only the first {model.TEXT_WINDOW}.]")
        st.html(f'<div style="white-space:pre-wrap;font-size:0.9rem">{highlight_html(c.text, query)}</div>')
        strategy.parent_view(hit)  # what the LLM reads instead, under parent-document retrieval

label_section(query, hits, state.documents())  # mark the answer: the question joins the set on Evaluate
cited = render_answer(query, hits, built, query_vector)
mark_cited(badges, cited)

st.subheader("Prompt preview")
prompt = build_prompt(query, hits, template=current_template())
stats = state.chunk_stats()
st.markdown(
    f"The top-{k} chunks make a context of **{prompt.context_tokens:,} tokens**; the whole prompt is "
    f"**{prompt.n_tokens:,} tokens** (about {k} × {stats.mean_tokens:.0f} mean chunk tokens + instructions). "
    "Counted with the embedding model's tokenizer, an approximation of an LLM's."
)
strategy.prompt_note(hits, prompt.context_tokens)  # parents' cost next to the chunks' (issue 13)
if st.toggle("Show the prompt", key="retrieval_show_prompt"):
    st.code(prompt.text, language=None, wrap_lines=True)
