"""Evaluate: score retrieval on a question set, sweep the settings, compare two setups, map the vectors.

UI only: metrics, sweeps, comparisons and projections come from core/. Long runs show progress;
any click reruns the script and so interrupts them, which is how Cancel works: finished sweep rows
are kept in session state as they arrive (run_sweep's on_rows) and shown, flagged as cancelled.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, replace
from typing import Any, Callable, Sequence

import pandas as pd
import streamlit as st

from core.chunking import SPLITTERS, UNITS, ChunkConfig
from core.compare import DROPPED, NEW, SAME, SHIFTED, boundary_diff, explain_miss, hit_diff, pooled_vs_exact, top_chunkings
from core.evaluation import METRIC_LABELS, METRICS, Question, evaluate, is_relevant, load_questions, relevant_ids
from core.plots.evaluation import (
    boundary_figure,
    embedding_map,
    metric_label,
    metric_vs_k,
    pooled_vs_exact_figure,
    sweep_heatmap,
)
from core.pooling import SentenceBank
from core.projection import METHODS as PROJECTIONS
from core.projection import available_methods, project
from core.render import chunk_map_html, highlight_html
from core.retrieval import MAX_K, METHODS, RetrievalConfig
from core.sweep import SweepGrid, SweepRow, run_sweep
from ui import state
from ui.indexing import ReportingEmbedder, build_index, build_retriever
from ui.resources import MODEL_KEY, SAMPLE_DIR, embedder
from ui.text import code, md
from ui.widgets import need_documents

# Session keys owned by this page (underscored: not widgets).
RUN = "_eval_run"  # {"key", "run": EvalRun, "chunks": list[Chunk], "label"} of the last evaluation
SWEEP = "_eval_sweep"  # {"grid", "mode", "rows": list[SweepRow], "status", "seconds", "prep_s", "key", "id"}
CONFIRM = "_eval_confirm"  # {"sweep_id", "configs", "rows": list[SweepRow], "status"} exact re-runs
BANK = "_eval_bank"  # (corpus key, model id, SentenceBank): sentence vectors for fast mode
AB_INDEX = "_eval_ab_index"  # (key, Retriever) for configuration B
FLASH = "_eval_flash"  # a message to show once after st.rerun()
# Widget keys of the Chunking and Retrieval pages: removed on "apply" so they re-seed from state.
APPLY_CLEARS = ("chunk_splitter", "chunk_unit", "chunk_size", "chunk_overlap", "retrieval_method", "retrieval_k_slider")

SIZE_OPTIONS = {"tokens": [32, 64, 100, 128, 150, 200, 256, 300, 400, 500, 768, 1024],
                "chars": [200, 400, 600, 800, 1000, 1200, 1500, 2000, 3000, 4000]}
SIZE_DEFAULTS = {"tokens": [100, 200, 300, 400], "chars": [400, 800, 1200, 2000]}
OVERLAP_OPTIONS = {"tokens": [0, 10, 20, 25, 40, 50, 75, 100, 150], "chars": [0, 50, 100, 150, 200, 300, 400]}
OVERLAP_DEFAULTS = {"tokens": [0, 25, 50], "chars": [0, 100, 200]}
K_OPTIONS = [1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50]
MODE_LABELS = {"pooled": "fast: pooled sentence vectors (≈ approximate)", "exact": "exact: embed every chunk (slow)"}
METRIC_HELP = {
    "hit": "Share of questions with at least one answering chunk in the top K.",
    "mrr": "Mean of 1/rank of the first answering chunk (0 when none is in the top K).",
    "recall": "Share of all answering chunks that made the top K, averaged over questions.",
    "ndcg": "Rank-discounted gain of the answering chunks in the top K, against the best possible order.",
}
CUSTOM = "(type your own question)"
QUESTION_FORMAT = (
    'JSONL, one object a line: `{"question": "...", "answers": ["..."], "source": "file name", '
    '"context": "optional gold passage"}`. CSV: columns question, answers (several separated by |), source, '
    "context. SQuAD v1.1 JSON: its articles become documents you can load."
)
# Inline, mid-sentence text: these are the characters that can start formatting, links, HTML,
# maths or Streamlit's :colour[...] directives there ("." or "-" only matter at a line start).
def choose(where: Any, label: str, options: Sequence, *, key: str, default: Any = None,
           format_func: Callable[[Any], str] = str, **kwargs: Any) -> Any:
    """A selectbox whose remembered value is dropped when it is no longer among the options."""
    options = list(options)
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else options[0]
    return where.selectbox(label, options, key=key, format_func=format_func, **kwargs)


def html_block(text: str, query: str) -> None:
    st.html(f'<div style="white-space:pre-wrap;font-size:0.9rem">{highlight_html(text, query)}</div>')


# -- page header -----------------------------------------------------------------------------

st.title("Evaluate")
st.caption(
    "Measure retrieval on a question set: the truth is tied to the text (right document, contains an "
    "answer, overlaps the gold passage), so the same questions score every chunking fairly."
)
if FLASH in st.session_state:
    st.success(st.session_state.pop(FLASH))

# A fresh script run cannot have a job still running: one marked so was interrupted by a click.
for _job_key in (SWEEP, CONFIRM):
    _job = st.session_state.get(_job_key)
    if _job and _job["status"] == "running":
        _job["status"] = "cancelled"

has_docs = need_documents("evaluate retrieval")
docs = state.documents()


# -- question set ----------------------------------------------------------------------------


def question_set() -> tuple[list[Question], str]:
    """The usable questions (source loaded) and an identity of the set; reports every problem."""
    st.subheader("Question set")
    source = st.radio("Questions from", ["sample", "upload"], horizontal=True, key="eval_q_source",
                      format_func=lambda s: {"sample": "the bundled sample set", "upload": "a file (JSONL, CSV or SQuAD JSON)"}[s])
    if source == "sample":
        path = SAMPLE_DIR / "questions.jsonl"
        data, name = (path.read_bytes() if path.exists() else b""), path.name
        if not data.strip():
            st.info("The bundled sample question set is empty. Upload a question file instead.")
            return [], ""
    else:
        upload = st.file_uploader("Question file", type=["jsonl", "csv", "json"], key="eval_q_upload", help=QUESTION_FORMAT)
        if upload is None:
            st.caption(QUESTION_FORMAT)
            return [], ""
        data, name = upload.getvalue(), upload.name
    try:
        qs = load_questions(data, name)
    except Exception as exc:  # a parser bug must not cost the page
        st.error(f"{md(name)} could not be read: {exc}")
        return [], ""
    if qs.errors:
        st.warning(f"{len(qs.errors)} line(s) of {md(name)} could not be read; the {len(qs.questions)} valid "
                   "question(s) are loaded. Fix the lines below and upload again to include them.")
        with st.expander(f"Lines that could not be read ({len(qs.errors)})", expanded=True):
            st.dataframe(pd.DataFrame({"line": pd.array([n or None for n, _ in qs.errors], dtype="Int64"),
                                       "problem": [m for _, m in qs.errors]}),
                         hide_index=True, key="eval_q_errors", width="stretch")
    if not qs.questions:
        st.error(f"{md(name)} has no valid question. Expected format: {QUESTION_FORMAT}")
        return [], ""
    if qs.documents:
        missing = [d for d in qs.documents if d.name not in docs or docs[d.name].digest != d.digest]
        if missing:
            st.info(f"{md(name)} is a SQuAD file: its questions are about {len(qs.documents)} article(s), "
                    f"{len(missing)} of them not loaded as documents yet.")
            if st.button(f"Load its {len(missing)} article(s) as documents", key="eval_squad_load", type="primary"):
                state.add_documents(missing)
                st.session_state[FLASH] = f"Loaded {len(missing)} SQuAD article(s) as documents."
                st.rerun()
        else:
            st.caption(f"All {len(qs.documents)} SQuAD article(s) of {md(name)} are loaded as documents.")
    usable = [q for q in qs.questions if q.source in docs]
    skipped = [q for q in qs.questions if q.source not in docs]
    if skipped:
        (st.warning if not usable else st.info)(
            f"{len(skipped)} of {len(qs.questions)} question(s) are skipped: their source document is not loaded.")
        with st.expander(f"Skipped questions ({len(skipped)})"):
            st.dataframe(pd.DataFrame({"line": pd.array([q.line or None for q in skipped], dtype="Int64"),
                                       "question": [q.question for q in skipped],
                                       "source (not loaded)": [q.source for q in skipped]}),
                         hide_index=True, key="eval_q_skipped", width="stretch")
    if usable:
        st.caption(f"{len(usable)} question(s) from {md(name)} will be scored, over "
                   f"{len({q.source for q in usable})} document(s).")
    return usable, hashlib.sha256(data).hexdigest()[:16]


questions, qkey = question_set()
if not has_docs:
    st.stop()


# -- 1. evaluate the current settings ----------------------------------------------------------


def settings_label(cc: ChunkConfig, rc: RetrievalConfig) -> str:
    return f"{cc.label()}, {rc.method} top-{rc.k}" + (", MMR" if rc.mmr else "")


def evaluate_tab() -> None:
    cc, rc = state.chunk_config(), state.retrieval_config()
    label = settings_label(cc, rc)
    st.markdown(f"**Current settings:** {md(label)}. Change them on the Chunking and Index & Retrieval pages, "
                "or apply a sweep result below.")
    if st.button("Evaluate current settings", key="eval_run", type="primary", disabled=not questions):
        built = build_index()
        if built is not None:
            try:
                with st.spinner(f"Scoring {len(questions)} question(s)..."):
                    run = evaluate(built.retriever, questions, docs, config=rc)
            except Exception as exc:
                st.error(f"The evaluation failed: {exc}")
            else:
                st.session_state[RUN] = {"key": (built.key, rc, qkey), "run": run, "chunks": built.retriever.chunks,
                                         "label": label}
                st.session_state[state.EVAL_SUMMARY] = {
                    "label": label, **{metric_label(m, rc.k): float(run.summary.get(m)) for m in METRICS}}
    stored = st.session_state.get(RUN)
    if not stored:
        st.info("Press **Evaluate current settings** to score the question set with the session's index.")
        return
    if stored["key"] != (state.index_key(MODEL_KEY), rc, qkey):
        st.warning(f"These results are for {stored['label']} and an earlier corpus or question set, not the "
                   "current settings. Press Evaluate again to refresh them.")
    show_run(stored)


def show_run(stored: dict) -> None:
    run, chunks = stored["run"], stored["chunks"]
    k = run.config.k
    for col, m in zip(st.columns(4), METRICS):
        col.metric(metric_label(m, k), f"{run.summary.get(m):.3f}", help=METRIC_HELP[m])
    hits = sum(1 for r in run.results if r.first_rank)
    st.caption(f"Exact: measured on the session's real index ({run.n_chunks:,} chunks). {len(run.results)} question(s) "
               f"scored, {hits} hit(s); {run.query_ms:.0f} ms per question."
               + (f" {len(run.skipped)} skipped (source not loaded)." if run.skipped else ""))

    st.markdown("#### Per question")
    st.caption("Select a row to see what came back. Misses show where the answer is and how far down the full ranking it came.")
    table = pd.DataFrame({
        "#": range(1, len(run.results) + 1),
        "result": ["hit" if r.first_rank else ("miss" if r.relevant else "no chunk holds it") for r in run.results],
        f"rank in top-{k}": pd.array([r.first_rank for r in run.results], dtype="Int64"),
        "best rank (full ranking)": pd.array([r.best_rank for r in run.results], dtype="Int64"),
        "answering chunks": [len(r.relevant) for r in run.results],
        "question": [r.question.question for r in run.results],
        "source": [r.question.source for r in run.results],
    })
    event = st.dataframe(table, key="eval_drill_table", on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch", height=260)
    rows = [i for i in (event.selection.rows if event is not None else []) if i < len(run.results)]
    # Nothing selected: open the first miss, the row most worth a look.
    pos = rows[0] if rows else next((i for i, r in enumerate(run.results) if not r.first_rank), 0)
    if not run.results:
        return
    drill_down(run.results[pos], pos, chunks, k)


def drill_down(r, pos: int, chunks: list, k: int) -> None:
    q = r.question
    with st.container(border=True, key="eval_drill_detail"):
        st.markdown(f"**Q{pos + 1}. {md(q.question)}**")
        st.caption(f"Answers: {md(' | '.join(q.answers))} · source: {md(q.source)}" + (" · has a gold passage" if q.context else ""))
        if r.first_rank:
            st.success(f"Hit: the first answering chunk came at rank {r.first_rank} of {k}.")
        elif r.relevant:
            where = (f"the best of them came at rank {r.best_rank} in the full ranking" if r.best_rank
                     else "BM25 does not rank them at all (they share no term with the question)")
            st.warning(f"Miss: {len(r.relevant)} chunk(s) answer it, but none made the top {k}; {where}.")
            for cid in sorted(r.relevant)[:3]:
                c = chunks[cid]
                st.markdown(f"Answering chunk: {code(c.doc)} chunk {c.index}, chars {c.start:,}-{c.end:,}")
                html_block(c.text, q.question)
        else:
            why = explain_miss(q, chunks, docs.get(q.source))
            if why.answer_at is None:
                st.warning(f"No chunk holds an answer, and no answer text occurs in {md(q.source)}: check the question file.")
            elif why.straddling and not why.holders:
                parts = ", ".join(str(chunks[i].index) for i in why.straddling)
                st.warning(f"No chunk holds the whole answer: it sits at chars {why.answer_at[0]:,}-{why.answer_at[1]:,} "
                           f"of {md(q.source)}, and a chunk boundary cuts it (chunks {parts} each hold part). "
                           "More overlap or a different splitter keeps it whole.")
            else:
                st.warning(f"The answer occurs at chars {why.answer_at[0]:,}-{why.answer_at[1]:,} of {md(q.source)}, but no "
                           "chunk both contains it and overlaps the gold passage.")
        st.markdown(f"**Top {k} retrieved**")
        for rank, cid in enumerate(r.retrieved, start=1):
            c = chunks[cid]
            mark = " · :green[answers it]" if cid in r.relevant else ""
            with st.container(border=True, key=f"eval_drill_hit_{rank}"):
                st.markdown(f"**#{rank}** · {code(c.doc)} · chars {c.start:,}-{c.end:,} · chunk {c.index}{mark}")
                html_block(c.text, q.question)


# -- 2. sweeps -------------------------------------------------------------------------------


def sentence_bank(doc_list: list, emb: Any, bar: Any) -> SentenceBank:
    """Every sentence embedded once per corpus (and cached on disk); every pooled sweep reuses it."""
    cached = st.session_state.get(BANK)
    key = (state.corpus_key(), emb.model_id)
    if cached and cached[0] == key:
        return cached[1]
    bank = SentenceBank(doc_list, embedder=emb, progress=lambda d, t: bar.progress(
        d / t, text=f"Fast mode: embedding every sentence once ({d:,} / {t:,}); later sweeps reuse them"))
    st.session_state[BANK] = (key, bank)
    return bank


def run_job(job: dict, grids: Sequence[SweepGrid], mode: str, what: str) -> None:
    """Run grids one after another into job["rows"], with progress; interrupted runs keep their rows."""
    doc_list = list(docs.values())
    emb = embedder()
    bar = st.progress(0.0, text=f"Starting the {what}...")
    started = time.perf_counter()
    configs = [c for g in grids for c in g.chunk_configs()]
    done = {"n": 0}

    def progress(i: int, total: int, label: str) -> None:
        if i < total:
            bar.progress(min((done["n"] + i) / len(configs), 1.0), text=f"{what}: chunking {done['n'] + i + 1} of {len(configs)} ({label})")

    def tick(d: int, t: int) -> None:
        bar.progress(min(done["n"] / len(configs) + d / t / len(configs), 1.0), text=f"{what}: embedding chunks {d:,} / {t:,}")

    try:
        bank = None
        if mode == "pooled":
            t0 = time.perf_counter()
            bank = sentence_bank(doc_list, emb, bar)
            job["prep_s"] = time.perf_counter() - t0
        for grid in grids:
            result = run_sweep(doc_list, questions, grid=grid, mode=mode, bank=bank, progress=progress,
                               embedder=ReportingEmbedder(emb, tick) if mode == "exact" else emb,
                               on_rows=job["rows"].extend)
            done["n"] += len(grid.chunk_configs())
            if result.cancelled:
                job["status"] = "cancelled"
                break
        else:
            job["status"] = "done"
    except Exception as exc:
        job["status"] = "failed"
        st.error(f"The {what} failed: {exc}")
    job["seconds"] = time.perf_counter() - started
    bar.empty()


def sweep_tab() -> None:
    st.markdown(
        "Score every combination of the settings below on the question set. **Fast mode** pools sentence "
        "vectors into chunk vectors: a whole grid in seconds, within a few points of exact. Its numbers are "
        "marked **≈ approximate**; confirm the best few exactly before deciding."
    )
    c1, c2, c3 = st.columns([2, 1, 2])
    splitters = c1.multiselect("Splitters", list(SPLITTERS), default=["recursive"], key="eval_sw_splitters",
                               help="\n\n".join(f"**{k}**: {v}" for k, v in SPLITTERS.items()))
    unit = c2.radio("Unit", list(UNITS), horizontal=True, key="eval_sw_unit",
                    help="The token splitter always counts the model's tokens.")
    methods = c3.multiselect("Methods", list(METHODS), default=["hybrid"], key="eval_sw_methods",
                             help="\n\n".join(METHODS.values()))
    c4, c5, c6 = st.columns(3)
    sizes = c4.multiselect(f"Chunk sizes ({unit})", SIZE_OPTIONS[unit], default=SIZE_DEFAULTS[unit], key=f"eval_sw_sizes_{unit}")
    overlaps = c5.multiselect(f"Overlaps ({unit})", OVERLAP_OPTIONS[unit], default=OVERLAP_DEFAULTS[unit],
                              key=f"eval_sw_overlaps_{unit}")
    ks = c6.multiselect("K values", K_OPTIONS, default=[1, 3, 5, 10], key="eval_sw_ks")
    mode = st.radio("Mode", list(MODE_LABELS), format_func=MODE_LABELS.get, horizontal=True, key="eval_sw_mode")
    grid = None
    try:
        grid = SweepGrid(tuple(splitters), tuple(sorted(sizes)), tuple(sorted(overlaps)), tuple(sorted(ks)),
                         tuple(methods), unit)
    except ValueError as exc:
        st.error(str(exc))
    if grid is not None:
        n_chunkings = len(grid.chunk_configs())
        st.caption(f"{n_chunkings} chunking(s) × {len(methods)} method(s) × {len(ks)} K = {grid.n_points} points "
                   "(pairs with overlap ≥ size are skipped). "
                   + ("Fast mode embeds each sentence once (cached), then every chunking costs a matrix product."
                      if mode == "pooled" else
                      "Exact mode embeds every chunk of every chunking: minutes for a large grid (cached afterwards)."))
    b1, b2, _ = st.columns([1, 1, 3])
    run_clicked = b1.button("Run sweep", key="eval_sw_run", type="primary", disabled=grid is None or not questions)
    b2.button("Cancel", key="eval_sw_cancel", help="Stops a running sweep; the chunkings already scored are kept.")
    if not questions:
        st.info("Load a question set with questions about the loaded documents to run a sweep.")
    if run_clicked and grid is not None:
        job = {"grid": grid, "mode": mode, "rows": [], "status": "running", "seconds": 0.0, "prep_s": 0.0,
               "key": (state.corpus_key(), qkey), "id": time.time()}
        st.session_state[SWEEP] = job
        for key in (CONFIRM, "eval_apply_choice", "_eval_sw_selected", "eval_sweep_table"):
            st.session_state.pop(key, None)
        run_job(job, [grid], mode, "sweep")
    job = st.session_state.get(SWEEP)
    if job:
        show_sweep(job)


def row_label(row: SweepRow, metric: str, approximate: bool) -> str:
    value = f"{'≈' if approximate else ''}{getattr(row, metric):.3f}"
    return (f"{row.splitter} {row.size}/{row.overlap} {row.unit} · {row.method} · top-{row.k} · "
            f"{metric_label(metric, row.k)} {value}")


def show_sweep(job: dict) -> None:
    rows: list[SweepRow] = job["rows"]
    grid: SweepGrid = job["grid"]
    approximate = job["mode"] == "pooled"
    total = len(grid.chunk_configs())
    finished = len({r.chunk_config() for r in rows})
    if job["status"] == "cancelled":
        st.warning(f"Sweep cancelled: showing the {finished} of {total} chunking(s) that finished before it stopped.")
    elif job["status"] == "failed":
        st.warning(f"The sweep stopped with an error after {finished} of {total} chunking(s).")
    elif job["status"] == "done":
        prep = f" (of which {job['prep_s']:.1f} s embedding sentences)" if approximate and job["prep_s"] > 0.05 else ""
        st.success(f"Sweep done: {len(rows)} points over {total} chunking(s) in {job['seconds']:.1f} s{prep}.")
    if job["key"] != (state.corpus_key(), qkey):
        st.warning("The documents or the question set changed since this sweep ran: run it again to update.")
    if not rows:
        return
    if approximate:
        st.info("**≈ Approximate:** fast (pooled) mode. Rankings between settings are reliable to within a few "
                "points; use *Confirm the best exactly* below before quoting a number.")

    st.markdown("#### Results" + (" (≈ approximate)" if approximate else " (exact)"))
    metric = st.selectbox("Metric", list(METRICS), format_func=lambda m: METRIC_LABELS[m], key="eval_sw_metric")
    ks = sorted({r.k for r in rows})
    c1, c2, c3 = st.columns(3)
    hk = choose(c1, "K (heatmap)", ks, key="eval_sw_heat_k", default=5 if 5 in ks else ks[len(ks) // 2])
    hm = choose(c2, "Method (heatmap)", sorted({r.method for r in rows}), key="eval_sw_heat_method")
    hs = choose(c3, "Splitter", sorted({r.splitter for r in rows}), key="eval_sw_heat_splitter")
    g1, g2 = st.columns(2)
    g1.plotly_chart(sweep_heatmap(rows, metric=metric, k=hk, method=hm, splitter=hs, approximate=approximate),
                    key="eval_sw_heatmap", width="stretch")
    g2.plotly_chart(metric_vs_k(rows, metric=metric, splitter=hs, approximate=approximate),
                    key="eval_sw_lines", width="stretch")

    prefix = "≈ " if approximate else ""
    table = pd.DataFrame([r.as_dict() for r in rows]).rename(columns={
        "hit": f"{prefix}hit@K", "mrr": f"{prefix}MRR@K", "recall": f"{prefix}recall@K", "ndcg": f"{prefix}nDCG@K",
        "chunks": "chunks", "index_s": "index s", "query_ms": "query ms"})
    event = st.dataframe(table, key="eval_sweep_table", hide_index=True, width="stretch", on_select="rerun",
                         selection_mode="single-row",
                         column_config={c: st.column_config.NumberColumn(format="%.3f") for c in table.columns if c.endswith("@K")})
    st.caption("Sort by any column header; select a row to make it the configuration to apply.")
    d1, d2, _ = st.columns([1, 1, 3])
    d1.download_button("Download CSV", table.to_csv(index=False).encode("utf-8"), file_name=f"rag-sweep-{job['mode']}.csv",
                       mime="text/csv", key="eval_export_csv", on_click="ignore")
    payload = {"mode": job["mode"], "approximate": approximate, "status": job["status"], "seconds": job["seconds"],
               "grid": asdict(grid), "rows": [r.as_dict() for r in rows]}
    d2.download_button("Download JSON", json.dumps(payload, indent=2).encode("utf-8"), file_name=f"rag-sweep-{job['mode']}.json",
                       mime="application/json", key="eval_export_json", on_click="ignore")

    st.markdown("#### Apply a configuration")
    order = sorted(range(len(rows)), key=lambda i: (-getattr(rows[i], metric), -rows[i].mrr, rows[i].size, rows[i].overlap, rows[i].k))
    selected = tuple(event.selection.rows) if event is not None else ()
    if selected and selected != st.session_state.get("_eval_sw_selected") and selected[0] < len(rows):
        st.session_state["eval_apply_choice"] = selected[0]  # a newly selected table row becomes the choice
    st.session_state["_eval_sw_selected"] = selected
    choice = choose(st, "Configuration", order, key="eval_apply_choice", format_func=lambda i: row_label(rows[i], metric, approximate),
                    help="Best first by the chosen metric. Applying sets the chunking and the retrieval method and K.")
    if st.button("Apply to Chunking and Retrieval", key="eval_apply", type="primary"):
        row = rows[choice]
        rc = state.retrieval_config()
        try:
            state.set_chunk_config(row.chunk_config())
            state.set_retrieval_config(replace(rc, method=row.method, k=row.k, candidates=max(rc.candidates, row.k)))
        except ValueError as exc:
            st.error(f"That configuration cannot be applied: {exc}")
        else:
            for key in APPLY_CLEARS:
                st.session_state.pop(key, None)
            st.session_state[FLASH] = (f"Applied {row.chunk_config().label()}, {row.method} top-{row.k}. The Chunking and "
                                       "Index & Retrieval pages now use it; the index is rebuilt on next use.")
            st.rerun()

    if approximate:
        confirm_section(job, metric, hk, hm)


def confirm_section(job: dict, metric: str, k: int, method: str) -> None:
    st.markdown("#### Confirm the best exactly")
    n = st.number_input("How many of the best chunkings", 1, 10, value=3, key="eval_confirm_n")
    configs = top_chunkings(job["rows"], metric=metric, k=k, method=method, n=int(n))
    st.caption(f"By ≈{metric_label(metric, k)} with {method}: " + "; ".join(c.label() for c in configs)
               + ". Each is re-chunked and every chunk embedded for real (cached afterwards).")
    b1, b2, _ = st.columns([1, 1, 3])
    clicked = b1.button(f"Confirm the best {len(configs)} exactly", key="eval_confirm_run", disabled=not questions)
    b2.button("Cancel", key="eval_confirm_cancel", help="Stops the exact runs; finished ones are kept.")
    if clicked:
        grid: SweepGrid = job["grid"]
        confirm = {"sweep_id": job["id"], "configs": configs, "rows": [], "status": "running", "seconds": 0.0}
        st.session_state[CONFIRM] = confirm
        grids = [SweepGrid((c.splitter,), (c.size,), (c.overlap,), grid.ks, grid.methods, c.unit) for c in configs]
        run_job(confirm, grids, "exact", "exact confirmation")
    confirm = st.session_state.get(CONFIRM)
    if not confirm or confirm["sweep_id"] != job["id"]:
        return
    if confirm["status"] == "cancelled":
        st.warning("Exact confirmation cancelled: showing the chunkings that finished.")
    pairs = pooled_vs_exact(job["rows"], confirm["rows"])
    if not pairs:
        return
    st.dataframe(pd.DataFrame({
        "chunking": [p.config.label() for p in pairs], "method": [p.method for p in pairs], "K": [p.k for p in pairs],
        "hit@K ≈ pooled": [p.pooled_hit for p in pairs], "hit@K exact": [p.exact_hit for p in pairs],
        "Δ hit (exact − pooled)": [p.d_hit for p in pairs],
        "MRR@K ≈ pooled": [p.pooled_mrr for p in pairs], "MRR@K exact": [p.exact_mrr for p in pairs],
        "Δ MRR": [p.d_mrr for p in pairs],
    }), key="eval_confirm_table", hide_index=True, width="stretch",
        column_config={c: st.column_config.NumberColumn(format="%+.3f" if c.startswith("Δ") else "%.3f")
                       for c in ("hit@K ≈ pooled", "hit@K exact", "Δ hit (exact − pooled)", "MRR@K ≈ pooled", "MRR@K exact", "Δ MRR")})
    shown = [p for p in pairs if p.k == k and p.method == method] or pairs
    st.plotly_chart(pooled_vs_exact_figure(shown, metric="hit"), key="eval_confirm_chart", width="stretch")
    worst = max(abs(p.d_hit) for p in pairs)
    st.caption(f"Largest gap between the pooled estimate and the exact hit@K: {worst:.3f}. Quote the exact numbers.")


# -- 3. A/B compare --------------------------------------------------------------------------


def seed_b() -> None:
    """First visit: B starts from the sweep's best, else the current chunking at twice the size."""
    if "eval_ab_size" in st.session_state:
        return
    cc, rc = state.chunk_config(), state.retrieval_config()
    job = st.session_state.get(SWEEP)
    best = min(job["rows"], key=lambda r: (-r.hit, -r.mrr, r.size, r.overlap)) if job and job["rows"] else None
    if best is not None and (best.chunk_config(), best.method, best.k) != (cc, rc.method, rc.k):
        seed = dict(splitter=best.splitter, unit=best.unit, size=best.size, overlap=best.overlap, method=best.method, k=best.k)
    else:
        size = min(cc.size * 2, 1024 if cc.unit == "tokens" else 4000)
        seed = dict(splitter=cc.splitter, unit=cc.unit, size=size, overlap=cc.overlap, method=rc.method, k=rc.k)
    for name, value in seed.items():
        st.session_state[f"eval_ab_{name}"] = value


def ab_tab() -> None:
    a_cc, a_rc = state.chunk_config(), state.retrieval_config()
    st.markdown(f"**A (current settings):** {md(settings_label(a_cc, a_rc))}")
    seed_b()
    st.markdown("**B:**")
    c = st.columns([2, 1, 1, 1, 1, 1])
    b_splitter = c[0].selectbox("Splitter", list(SPLITTERS), key="eval_ab_splitter")
    b_unit = c[1].selectbox("Unit", list(UNITS), key="eval_ab_unit")
    b_size = c[2].number_input("Size", 1, 16000, key="eval_ab_size")
    b_overlap = c[3].number_input("Overlap", 0, 16000, key="eval_ab_overlap")
    b_method = c[4].selectbox("Method", list(METHODS), key="eval_ab_method")
    b_k = c[5].number_input("Top-K", 1, MAX_K, key="eval_ab_k")
    try:
        b_cc = ChunkConfig(size=int(b_size), overlap=int(b_overlap), splitter=b_splitter,
                           unit="tokens" if b_splitter == "tokens" else b_unit)
        b_rc = replace(a_rc, method=b_method, k=int(b_k), candidates=max(a_rc.candidates, int(b_k)))
    except ValueError as exc:
        st.error(f"Configuration B: {exc}")
        return
    doc_name = choose(st, "Document", list(docs), key="eval_ab_doc")
    asked = list(dict.fromkeys(q.question for q in questions if q.source == doc_name))
    pick = choose(st, "Question", [CUSTOM] + asked, key="eval_ab_question", default=asked[0] if asked else CUSTOM)
    query = st.text_input("Your question", key="eval_ab_query") if pick == CUSTOM else pick
    question = next((q for q in questions if q.question == pick and q.source == doc_name), None)

    b_key = (state.corpus_key(), b_cc, MODEL_KEY)
    if st.button("Compare A and B", key="eval_ab_run", type="primary"):
        built = build_index()
        cached = st.session_state.get(AB_INDEX)
        if built is not None and not (cached and cached[0] == b_key):
            retriever = built.retriever if b_cc == a_cc else build_retriever(list(docs.values()), b_cc)
            if retriever is not None:
                st.session_state[AB_INDEX] = (b_key, retriever)
    built = state.built_index(MODEL_KEY)
    cached = st.session_state.get(AB_INDEX)
    if built is None or not cached or cached[0] != b_key:
        st.info("Press **Compare A and B** to build B's index (exact vectors, cached) and compare.")
        return
    ra, rb = built.retriever, cached[1]

    chunks_a = [ch for ch in ra.chunks if ch.doc == doc_name]
    chunks_b = [ch for ch in rb.chunks if ch.doc == doc_name]
    diff = boundary_diff(chunks_a, chunks_b)
    st.markdown(f"#### Where the boundaries moved in {md(doc_name)}")
    m = st.columns(4)
    m[0].metric("Chunks A → B", f"{diff.n_a} → {diff.n_b}")
    m[1].metric("Boundaries only in A", len(diff.only_a))
    m[2].metric("Boundaries only in B", len(diff.only_b))
    m[3].metric("Shared boundaries", len(diff.shared))
    st.plotly_chart(boundary_figure(chunks_a, chunks_b, diff), key="eval_ab_boundaries", width="stretch")
    with st.expander("Chunk maps side by side"):
        left, right = st.columns(2)
        with left:
            st.caption(f"A: {a_cc.label()}")
            st.html(chunk_map_html(docs[doc_name].text, chunks_a))
        with right:
            st.caption(f"B: {b_cc.label()}")
            st.html(chunk_map_html(docs[doc_name].text, chunks_b))

    if not query.strip():
        st.info("Choose or type a question to compare what each configuration retrieves.")
        return
    try:
        qv = ra.embed_queries([query])[0]
        hits_a = ra.search(query, config=a_rc, query_vector=qv)
        hits_b = rb.search(query, config=b_rc, query_vector=qv)
    except Exception as exc:
        st.error(f"Retrieval failed: {exc}")
        return
    hd = hit_diff([h.chunk for h in hits_a], [h.chunk for h in hits_b])
    st.markdown("#### Which retrieved chunks changed")
    st.caption(f"B keeps {hd.count('a', SAME)} of A's top-{a_rc.k} spans exactly, shifts {hd.count('a', SHIFTED)}, "
               f"drops {hd.count('a', DROPPED)}; {hd.count('b', NEW)} of B's top-{b_rc.k} cover text A did not retrieve. "
               "Compared by character spans over the whole corpus (chunk numbers differ between chunkings).")
    badge = {SAME: ":gray[same span]", SHIFTED: ":orange[shifted]", DROPPED: ":red[dropped in B]", NEW: ":green[new in B]"}
    left, right = st.columns(2)
    for col, changes, label in ((left, hd.a, "A"), (right, hd.b, "B")):
        with col:
            if question is not None:
                first = next((s.rank for s in changes if is_relevant(s.chunk, question, docs)), None)
                st.markdown(f"**{label}:** " + (f":green[hit at rank {first}]" if first else ":red[miss]"))
            else:
                st.markdown(f"**{label}**")
            for s in changes:
                rel = " · :green[answers it]" if question is not None and is_relevant(s.chunk, question, docs) else ""
                cover = f" ({s.coverage:.0%} covered)" if s.status == SHIFTED else ""
                with st.container(border=True, key=f"eval_ab_{label}_{s.rank}"):
                    st.markdown(f"**#{s.rank}** · {code(s.chunk.doc)} · chars {s.chunk.start:,}-{s.chunk.end:,} · "
                                f"{badge[s.status]}{cover}{rel}")
                    html_block(s.chunk.text, query)


# -- 4. embedding map ------------------------------------------------------------------------


def map_tab() -> None:
    st.caption("The current index's chunk vectors in two dimensions, one colour per document. Nearby points are "
               "similar, but a 2-D picture of 384-D space distorts distance: the ranking is the truth.")
    built = state.built_index(MODEL_KEY)
    if built is None:
        st.info("The map shows the current index, which is not built for these settings yet.")
        if st.button("Build the index", key="eval_map_build", type="primary"):
            built = build_index()
        if built is None:
            return
    methods = available_methods()
    c1, c2 = st.columns([1, 3])
    method = choose(c1, "Projection", methods, key="eval_map_method", format_func=lambda m: m.upper(),
                    help="\n\n".join(PROJECTIONS[m] for m in methods))
    if "umap" not in methods:
        c1.caption("UMAP is offered when the umap-learn package is installed.")
    asked = list(dict.fromkeys(q.question for q in questions))
    pick = choose(c2, "Question", [CUSTOM] + asked, key="eval_map_question", default=asked[0] if asked else CUSTOM)
    query = c2.text_input("Your question", key="eval_map_query") if pick == CUSTOM else pick
    question = next((q for q in questions if q.question == pick), None)
    r, rc = built.retriever, state.retrieval_config()
    try:
        qv = r.embed_queries([query]) if query.strip() else None
        with st.spinner("Projecting..."):
            proj = project(r.vectors, extra=qv, method=method)
        hits = r.search(query, config=rc, query_vector=qv[0]) if qv is not None else []
    except (ValueError, RuntimeError) as exc:
        st.error(f"The map cannot be drawn: {exc}")
        return
    retrieved = [r.position(h.chunk) for h in hits]
    missed = sorted(relevant_ids(r.chunks, question, docs) - set(retrieved)) if question is not None else []
    st.plotly_chart(embedding_map(proj, r.chunks, retrieved=retrieved, missed=missed, query=query),
                    key="eval_map_chart", width="stretch")
    if query.strip():
        st.caption(f"Star: the question. Blue rings: its top-{rc.k} ({rc.method}), numbered by rank. "
                   + (f"Red crosses: {len(missed)} chunk(s) that answer it but were not retrieved." if question is not None
                      else "Pick a question from the set to also see the answering chunks that were missed."))


tab_eval, tab_sweep, tab_ab, tab_map = st.tabs(["Current settings", "Sweep", "A/B compare", "Embedding map"])
with tab_eval:
    evaluate_tab()
with tab_sweep:
    sweep_tab()
with tab_ab:
    ab_tab()
with tab_map:
    map_tab()
