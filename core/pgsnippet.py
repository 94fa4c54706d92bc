"""Copyable Python that reproduces a published retriever outside the app.

`psycopg_snippet` writes a standalone script (psycopg 3 + pgvector + sentence-transformers) that
embeds a question with the same model, runs the same single SQL statement the app's
`ServedRetriever` runs, and fuses the two lists with the same reciprocal-rank fusion: the test
suite executes it against a real server and checks it returns the app's top K.
`langchain_snippet` writes the langchain-postgres equivalent; its hybrid search has a fixed shape
(4 candidates per side by default, every query word must match), which the script says.

Values are written with `repr()` and the SQL is the app's own statement with the table names
left as `{table}`/`{terms}` placeholders that the script fills with `psycopg.sql.Identifier`
after looking the collection up by name (a parameter): nothing typed by a user becomes SQL.
"""
from __future__ import annotations

from dataclasses import dataclass

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from core.pgserve import COMMON_SHARE, LEXICAL_BUDGET, ServeConfig, _serve_sql
from core.pgstore import COLLECTIONS, CollectionInfo

_TABLE, _TERMS = "__rag_table__", "__rag_terms__"


@dataclass(frozen=True)
class SnippetSettings:
    collection: CollectionInfo
    model_path: str
    model_name: str
    method: str  # "dense", "bm25" or "hybrid"
    k: int
    rrf_k: int = 60
    candidates: int = 50
    serve: ServeConfig = ServeConfig()
    fusion: str = "rrf"  # core.retrieval's fusion names: rrf, zscore, minmax
    dense_weight: float = 0.5

    def __post_init__(self) -> None:
        if self.method not in ("dense", "bm25", "hybrid"):
            raise ValueError(f"A published collection serves dense, bm25 or hybrid, not '{self.method}'.")
        if self.fusion not in ("rrf", "zscore", "minmax"):
            raise ValueError(f"Unknown fusion '{self.fusion}'.")
        if self.k < 1 or self.candidates < self.k:
            raise ValueError("Need 1 <= k <= candidates.")


def url_without_password(url: str) -> str:
    """The connection URL to print in a script: the password is left for the environment."""
    try:
        params = conninfo_to_dict(url)
    except Exception:
        return "postgresql://user@host:5432/database"
    params.pop("password", None)
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def _sql_text(serve: ServeConfig, *, terms: bool) -> str:
    statement = _serve_sql(_TABLE, exact=serve.exact, lexical=serve.lexical, terms=_TERMS if terms else None)
    text = statement.as_string(None)
    return text.replace(f'"{_TABLE}"', "{table}").replace(f'"{_TERMS}"', "{terms}").strip()


def psycopg_snippet(s: SnippetSettings, *, url: str, has_terms: bool = True) -> str:
    info = s.collection
    dtype = "bfloat16" if str(info.settings.get("model_id", "")).endswith("bf16") else "float32"
    n_dense = s.candidates if s.method in ("dense", "hybrid") else 0
    n_lex = s.candidates if s.method in ("bm25", "hybrid") else 0
    query = _sql_text(s.serve, terms=has_terms)
    settings = ", ".join(f"{k}={v}" for k, v in sorted(info.settings.items()) if k in
                         ("splitter", "size", "overlap", "unit", "headers", "model_id"))
    return f'''"""Query the RAG Explorer collection {info.name!r} as the app serves it.

Published settings: {settings or "(none recorded)"}.
Retrieval: {s.method}, top {s.k}, {s.candidates} candidates per side, {s.fusion} fusion (dense weight
{s.dense_weight:g}, RRF k={s.rrf_k}),
HNSW ef_search={s.serve.ef_search} (m={info.hnsw_m}, ef_construction={info.hnsw_ef_construction}).
Needs: pip install "psycopg[binary]" pgvector sentence-transformers numpy
Run:   DATABASE_URL=postgresql://user:password@host/db python this_file.py "your question"
"""
import json
import os
import re
import sys

import numpy as np
import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from sentence_transformers import SentenceTransformer

DATABASE_URL = os.environ.get("DATABASE_URL", {url_without_password(url)!r})
COLLECTION = {info.name!r}
MODEL = {s.model_path!r}  # {s.model_name}; any copy of the same model will do
K, CANDIDATES, RRF_K, EF_SEARCH = {s.k}, {s.candidates}, {s.rrf_k}, {s.serve.ef_search}
FUSION, DENSE_WEIGHT = {s.fusion!r}, {s.dense_weight!r}
N_DENSE, N_LEXICAL = {n_dense}, {n_lex}
COMMON_SHARE = {COMMON_SHARE}  # words in more chunks than this share only re-rank
LEXICAL_BUDGET = {LEXICAL_BUDGET}  # chunks the full-text side scores at most, from the rarest words

# One round trip: dense candidates from pgvector, lexical ones from full-text search, with both
# scores of every candidate. Table names come from the collection's row, as identifiers.
QUERY = """
{query}
"""


def load_model():
    # The collection was embedded in {dtype}: the same precision gives the app's exact query vector.
    import torch
    return SentenceTransformer(MODEL, device="cpu", model_kwargs={{"torch_dtype": torch.{dtype}}})


def embed(model, question):
    return model.encode([question], normalize_embeddings=True)[0].astype(np.float32)


def fuse(dense, lexical):
    """The app's fusion of two (id, score) lists, best first: reciprocal ranks or normalised scores,
    dense weighted DENSE_WEIGHT; ties go to the chunk both lists found, then its best rank, then id."""
    weights = [DENSE_WEIGHT, 1 - DENSE_WEIGHT]
    fused = {{}}
    for ranked, w in zip((dense, lexical), weights):
        if FUSION == "rrf":
            for rank, (i, _) in enumerate(ranked, start=1):
                fused[i] = fused.get(i, 0.0) + 2 * w / (RRF_K + rank)
            continue
        s = np.array([score for _, score in ranked], dtype=np.float64)
        if FUSION == "zscore":
            z = (s - s.mean()) / s.std() if len(s) and s.std() > 0 else np.zeros_like(s)
        else:
            z = (s - s.min()) / (s.max() - s.min()) if len(s) and s.max() > s.min() else np.zeros_like(s)
        normed = dict(zip((i for i, _ in ranked), z.tolist()))
        floor = float(z.min()) if len(z) else 0.0
        for i in dict.fromkeys(i for r in (dense, lexical) for i, _ in r):
            fused[i] = fused.get(i, 0.0) + w * normed.get(i, floor)
    ranks = [{{i: r for r, (i, _) in enumerate(ranked, start=1)}} for ranked in (dense, lexical)]
    found = {{i: sum(i in r for r in ranks) for i in fused}}
    best = {{i: min((r[i] for r in ranks if i in r), default=10**9) for i in fused}}
    return sorted(fused.items(), key=lambda kv: (-kv[1], -found[kv[0]], best[kv[0]], kv[0]))


def search(conn, model, question, k=K):
    row = conn.execute("SELECT table_name, size FROM {COLLECTIONS} WHERE name = %s", [COLLECTION]).fetchone()
    if row is None:
        raise SystemExit(f"No collection named {{COLLECTION!r}} in this database.")
    table, size = row
    statement = sql.SQL(QUERY).format(table=sql.Identifier(table), terms=sql.Identifier(table + "_terms"))
    n = min(CANDIDATES, size)
    # HNSW returns at most ef_search rows: widen it to the candidate depth.
    conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", [str(min(max(EF_SEARCH, n), 1000))])
    words = " or ".join(re.findall(r"\\w+", question))  # the OR of the question's words
    rows = conn.execute(statement, {{
        "v": embed(model, question), "cfg": {info.text_search!r}, "text": question, "words": words,
        "nd": n if N_DENSE else 0, "nl": n if N_LEXICAL else 0, "n": size, "common": COMMON_SHARE * size, "budget": LEXICAL_BUDGET,
    }}).fetchall()
    dense = sorted((dist, seq) for side, seq, dist, _, _ in rows if side == "d")
    lexical = sorted((-score, seq) for side, seq, _, score, _ in rows if side == "l")
    lists = [r for r, used in ((dense, N_DENSE), (lexical, N_LEXICAL)) if used]
    # Ties: the app orders equal scores by chunk position, which is the rows' seq order.
    if len(lists) == 1:  # one source: its own order and score (cosine, or the full-text score)
        top = [(seq, 1 - key if N_DENSE else -key) for key, seq in lists[0][:k]]
    else:
        top = fuse([(seq, 1 - d) for d, seq in dense], [(seq, -s) for s, seq in lexical])[:k]
    chunks = {{r[0]: r for r in conn.execute(sql.SQL(
        "SELECT seq, doc, idx, start_offset, end_offset, page, section, text FROM {{}} WHERE seq = ANY(%s)"
    ).format(sql.Identifier(table)), [[seq for seq, _ in top]]).fetchall()}}
    return [{{"rank": i, "score": round(score, 6), "doc": chunks[seq][1], "chunk": chunks[seq][2],
             "chars": [chunks[seq][3], chunks[seq][4]], "page": chunks[seq][5], "section": chunks[seq][6],
             "text": chunks[seq][7]}} for i, (seq, score) in enumerate(top, start=1)]


if __name__ == "__main__":
    question = " ".join(sys.argv[1:]) or "What does the Team plan include?"
    model = load_model()
    with psycopg.connect(DATABASE_URL, autocommit=True) as conn:
        register_vector(conn)
        for hit in search(conn, model, question):
            print(json.dumps(hit))
'''


def langchain_snippet(s: SnippetSettings, *, url: str) -> str:
    info = s.collection
    return f'''"""The langchain-postgres way to query {info.name!r} (hybrid search, PGVectorStore v2).

Not executed by the app's tests: langchain-postgres 0.0.x pins pgvector<0.4, which would
downgrade the pgvector package this app uses. And its hybrid search differs from the app's:
it fuses only primary_top_k/secondary_top_k candidates per side (4 by default), and its
full-text side uses plainto_tsquery, so a chunk must contain *every* query word, ranked by
ts_rank_cd without IDF. bench.vector_store measures what that costs ("langchain_style").
Needs: pip install langchain-postgres langchain-huggingface
"""
import os

from langchain_huggingface import HuggingFaceEmbeddings
from langchain_postgres import PGEngine, PGVectorStore
from langchain_postgres.v2.hybrid_search_config import HybridSearchConfig, reciprocal_rank_fusion

DATABASE_URL = os.environ.get("DATABASE_URL", {url_without_password(url)!r}).replace(
    "postgresql://", "postgresql+psycopg://", 1)
engine = PGEngine.from_connection_string(url=DATABASE_URL)
embeddings = HuggingFaceEmbeddings(model_name={s.model_path!r}, encode_kwargs={{"normalize_embeddings": True}})

# The app's tables: look up {info.name!r}'s table in {COLLECTIONS} (today: {info.table!r}).
store = PGVectorStore.create_sync(
    engine=engine, table_name={info.table!r}, embedding_service=embeddings,
    id_column="seq", content_column="text", embedding_column="embedding",
    metadata_columns=["doc", "idx", "start_offset", "end_offset", "page", "section"], metadata_json_column=None,
    hybrid_search_config=HybridSearchConfig(
        tsv_column="tsv", tsv_lang="pg_catalog.english",
        fusion_function=reciprocal_rank_fusion, fusion_function_parameters={{"rrf_k": {s.rrf_k}, "fetch_top_k": {s.k}}},
        # The app fuses {s.candidates} per side; LangChain's default is 4.
        primary_top_k={s.candidates}, secondary_top_k={s.candidates},
    ),
)
for doc in store.similarity_search("What does the Team plan include?", k={s.k}):
    print(doc.metadata["doc"], doc.metadata["idx"], doc.page_content[:80])
'''
