"""PostgreSQL + pgvector as a vector store: named collections, publishing, and `PgVectorStore`.

A collection is a row of `rag_explorer_collections` (its name is data there, never SQL) pointing
at a table whose name the code generates (`rag_chunks_<hex>`). User text only ever reaches the
server as a parameter, and table names only as `psycopg.sql.Identifier`, so a collection may be
called anything printable, quotes and SQL included.

Publishing writes a whole new table inside one transaction: COPY in batches, then the HNSW index
(cosine ops) and the GIN index of the full-text column, then the collection row is pointed at the
new table and the old one dropped. PostgreSQL's DDL is transactional, so a failure, a cancel or a
dropped connection anywhere before the commit leaves the previous version exactly as it was, and
readers see the old version until the commit.

`PgVectorStore` meets `core.stores.VectorStore` for one collection. Chunks are held in memory
(ids are positions in `chunks()`, as the protocol says); vectors are not (`vectors()` is None).
Each row carries a `seq` that only grows, so "positions in id order" is "rows in seq order".
"""
from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import psycopg
from psycopg import errors, sql
from psycopg.types.json import Jsonb

from core.chunking import Chunk
from core.pg import PgError
from core.stores import StoreFacts, _as_matrix

COLLECTIONS = "rag_explorer_collections"
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
EF_SEARCH = 40  # pgvector's default
EF_SEARCH_MAX = 1000  # pgvector's upper limit: deeper requests scan exactly
TEXT_SEARCH_CONFIG = "english"  # stemming and a stop list, closest to core.lexical's tokenizer
MAX_NAME = 200
BATCH = 1000

Progress = Callable[[int, int], None]  # (rows written, rows in all)

_COLUMNS = ("doc", "idx", "start_offset", "end_offset", "page", "section", "n_tokens", "text", "header", "embedding")
_COPY_TYPES = ["text", "int4", "int4", "int4", "int4", "text", "int4", "text", "text", "vector"]


@dataclass(frozen=True)
class CollectionInfo:
    """One published collection, as listed for a page."""

    name: str
    table: str
    dimensions: int
    size: int
    settings: dict = field(hash=False, compare=False)
    hnsw_m: int = HNSW_M
    hnsw_ef_construction: int = HNSW_EF_CONSTRUCTION
    text_search: str = TEXT_SEARCH_CONFIG


def check_name(name: str) -> str:
    """A collection name may hold any printable text; refuse only what PostgreSQL cannot store."""
    if not isinstance(name, str) or not name.strip():
        raise PgError("Give the collection a name.")
    if "\x00" in name:
        raise PgError("A collection name cannot contain a NUL character.")
    if len(name) > MAX_NAME:
        raise PgError(f"A collection name can be at most {MAX_NAME} characters; this one has {len(name)}.")
    return name


def ensure_schema(conn: psycopg.Connection) -> None:
    conn.execute(sql.SQL(
        """CREATE TABLE IF NOT EXISTS {} (
            name text PRIMARY KEY,
            table_name text NOT NULL UNIQUE,
            dimensions int NOT NULL,
            size int NOT NULL,
            settings jsonb NOT NULL DEFAULT '{{}}',
            hnsw_m int NOT NULL,
            hnsw_ef_construction int NOT NULL,
            text_search text NOT NULL,
            published_at timestamptz NOT NULL DEFAULT now())"""
    ).format(sql.Identifier(COLLECTIONS)))


def _create_table(conn: psycopg.Connection, table: str, dimensions: int, text_search: str) -> None:
    conn.execute(sql.SQL(
        """CREATE TABLE {table} (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            doc text NOT NULL,
            idx int NOT NULL,
            start_offset int NOT NULL,
            end_offset int NOT NULL,
            page int,
            section text NOT NULL DEFAULT '',
            n_tokens int NOT NULL,
            text text NOT NULL,
            header text NOT NULL DEFAULT '',
            embedding vector({dims}) NOT NULL,
            -- what BM25 reads in memory: the contextual header (when the chunking adds one), then the text
            tsv tsvector GENERATED ALWAYS AS (to_tsvector({cfg}::regconfig, header || E'\n\n' || text)) STORED)"""
    ).format(table=sql.Identifier(table), dims=sql.Literal(dimensions), cfg=sql.Literal(text_search)))
    conn.execute(sql.SQL("CREATE INDEX ON {} (doc)").format(sql.Identifier(table)))


def _create_indexes(conn: psycopg.Connection, table: str, timings: dict[str, float] | None = None) -> None:
    started = time.perf_counter()
    conn.execute(sql.SQL(
        "CREATE INDEX ON {} USING hnsw (embedding vector_cosine_ops) WITH (m = {}, ef_construction = {})"
    ).format(sql.Identifier(table), sql.Literal(HNSW_M), sql.Literal(HNSW_EF_CONSTRUCTION)))
    built = time.perf_counter()
    conn.execute(sql.SQL("CREATE INDEX ON {} USING gin (tsv)").format(sql.Identifier(table)))
    if timings is not None:
        timings["hnsw_s"], timings["gin_s"] = built - started, time.perf_counter() - built


def terms_table(table: str) -> str:
    """The table of a collection's document frequencies (lexeme -> chunks holding it)."""
    return f"{table}_terms"


def _create_term_stats(conn: psycopg.Connection, table: str) -> None:
    """Document frequency of every lexeme, for the served lexical side's IDF (PostgreSQL's own
    ranking functions have none). One pass of ts_stat over the new table; rebuilt by each publish."""
    terms = sql.Identifier(terms_table(table))
    conn.execute(sql.SQL("CREATE TABLE {} (word text PRIMARY KEY, ndoc int NOT NULL)").format(terms))
    conn.execute(sql.SQL("INSERT INTO {} SELECT word, ndoc FROM ts_stat(format('SELECT tsv FROM %%I', %s::text))"
                         ).format(terms), [table])


def _drop_table(conn: psycopg.Connection, table: str) -> None:
    conn.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(sql.Identifier(table),
                                                               sql.Identifier(terms_table(table))))


def _raise_build_memory(conn: psycopg.Connection, rows: int, dimensions: int) -> None:
    """Give this transaction's HNSW build room for its graph (never lowering the server's setting).

    pgvector builds the graph in maintenance_work_mem (64 MB by default, about 30k 384-d vectors);
    past it, the build goes on on disk, many times slower, with only a NOTICE to say so.
    """
    needed_mb = min(int(rows * (4 * dimensions + 400) * 1.3 / 2**20) + 64, 2048)
    row = conn.execute("SELECT setting::bigint / 1024 FROM pg_settings WHERE name = 'maintenance_work_mem'").fetchone()
    if row and int(row[0]) < needed_mb:
        conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", [f"{needed_mb}MB"])


def _copy_rows(conn: psycopg.Connection, table: str, chunks: Sequence[Chunk], vectors: np.ndarray,
               progress: Progress | None = None) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT BINARY)").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, _COLUMNS)))
    for lo in range(0, len(chunks), BATCH):
        with conn.cursor() as cur, cur.copy(statement) as copy:
            copy.set_types(_COPY_TYPES)
            for c, v in zip(chunks[lo:lo + BATCH], vectors[lo:lo + BATCH]):
                copy.write_row((c.doc, c.index, c.start, c.end, c.page, c.section, c.n_tokens, c.text, c.header, v))
        if progress:
            progress(min(lo + BATCH, len(chunks)), len(chunks))


@contextmanager
def _database_errors(action: str, name: str) -> Iterator[None]:
    """Driver errors while writing, as PgError: the transaction was rolled back, so say that."""
    try:
        yield
    except errors.InsufficientPrivilege:
        raise PgError(f"Could not {action} '{name}': this database user may not create tables here. Grant it "
                      "CREATE on the schema (GRANT CREATE ON SCHEMA public TO the user), or use another "
                      "database.") from None
    except psycopg.OperationalError as e:
        raise PgError(f"The connection to PostgreSQL failed while trying to {action} '{name}'; the previous "
                      f"version, if any, is unchanged. ({type(e).__name__})") from None


def _new_table_name() -> str:
    return f"rag_chunks_{uuid.uuid4().hex[:16]}"


def _lock_name(conn: psycopg.Connection, name: str) -> None:
    """Serialise writers of one collection until the transaction ends (readers are never blocked)."""
    conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [f"{COLLECTIONS}:{name}"])


def publish(conn: psycopg.Connection, name: str, chunks: Sequence[Chunk], vectors: np.ndarray,
            settings: dict, progress: Progress | None = None, *,
            timings: dict[str, float] | None = None) -> CollectionInfo:
    """Write `chunks` and their vectors as collection `name`, replacing any earlier version atomically.

    `settings` (splitter, size, overlap, model id, method, K, ...) is stored with the collection.
    `progress(rows_written, rows)` is called after each COPY batch; raising from it cancels the
    publish and leaves the previous version untouched. `timings`, when given, receives the seconds
    of the load (`copy_s`) and of the index builds (`hnsw_s`, `gin_s`).
    """
    check_name(name)
    vectors = _as_matrix(vectors)
    if len(chunks) != len(vectors):
        raise ValueError("Need exactly one vector per chunk.")
    if not len(chunks):
        raise PgError("There is nothing to publish: build the index first.")
    dimensions = int(vectors.shape[1])
    table = _new_table_name()
    with _database_errors("publish", name):
        ensure_schema(conn)
        with conn.transaction():
            _lock_name(conn, name)
            _create_table(conn, table, dimensions, TEXT_SEARCH_CONFIG)
            started = time.perf_counter()
            _copy_rows(conn, table, chunks, vectors, progress)
            loaded = time.perf_counter()
            _raise_build_memory(conn, len(chunks), dimensions)
            _create_indexes(conn, table, timings)
            _create_term_stats(conn, table)
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
            if timings is not None:
                timings["copy_s"] = loaded - started
            old = conn.execute(sql.SQL("SELECT table_name FROM {} WHERE name = %s FOR UPDATE").format(
                sql.Identifier(COLLECTIONS)), [name]).fetchone()
            conn.execute(sql.SQL(
                """INSERT INTO {} (name, table_name, dimensions, size, settings, hnsw_m, hnsw_ef_construction,
                                   text_search)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (name) DO UPDATE SET table_name = EXCLUDED.table_name,
                       dimensions = EXCLUDED.dimensions, size = EXCLUDED.size, settings = EXCLUDED.settings,
                       hnsw_m = EXCLUDED.hnsw_m, hnsw_ef_construction = EXCLUDED.hnsw_ef_construction,
                       text_search = EXCLUDED.text_search, published_at = now()"""
            ).format(sql.Identifier(COLLECTIONS)),
                [name, table, dimensions, len(chunks), Jsonb(settings), HNSW_M, HNSW_EF_CONSTRUCTION,
                 TEXT_SEARCH_CONFIG])
            if old:
                _drop_table(conn, old[0])
    info = get_collection(conn, name)
    assert info is not None
    return info


def _info(row: tuple) -> CollectionInfo:
    name, table, dims, size, settings, m, efc, ts = row
    return CollectionInfo(name, table, dims, size, dict(settings or {}), m, efc, ts)


_SELECT_INFO = ("SELECT name, table_name, dimensions, size, settings, hnsw_m, hnsw_ef_construction, text_search "
                "FROM {}")


def _has_schema(conn: psycopg.Connection) -> bool:
    # Readers only look: creating the table needs a privilege a read-only user may not have.
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [COLLECTIONS]).fetchone()
    return bool(row and row[0])


def get_collection(conn: psycopg.Connection, name: str) -> CollectionInfo | None:
    if not _has_schema(conn):
        return None
    row = conn.execute(sql.SQL(_SELECT_INFO + " WHERE name = %s").format(sql.Identifier(COLLECTIONS)),
                       [name]).fetchone()
    return _info(row) if row else None


def list_collections(conn: psycopg.Connection) -> list[CollectionInfo]:
    if not _has_schema(conn):
        return []
    rows = conn.execute(sql.SQL(_SELECT_INFO + " ORDER BY name").format(sql.Identifier(COLLECTIONS))).fetchall()
    return [_info(r) for r in rows]


def drop_collection(conn: psycopg.Connection, name: str) -> bool:
    """Remove a collection and its table; False when there was none."""
    if not _has_schema(conn):
        return False
    with conn.transaction():
        _lock_name(conn, name)
        row = conn.execute(sql.SQL("DELETE FROM {} WHERE name = %s RETURNING table_name").format(
            sql.Identifier(COLLECTIONS)), [name]).fetchone()
        if row:
            _drop_table(conn, row[0])
    return row is not None


class PgVectorStore:
    """One collection in PostgreSQL + pgvector; cosine = 1 - pgvector's cosine distance.

    `exact=True` makes every search a full scan (no HNSW), for checks and benchmarks.
    """

    name = "pgvector"

    def __init__(self, conn: psycopg.Connection, collection: str, *, dimensions: int | None = None,
                 model_id: str | None = None, ef_search: int = EF_SEARCH, exact: bool = False) -> None:
        check_name(collection)
        info = get_collection(conn, collection)
        if info is None:
            raise PgError(f"There is no collection '{collection}' in this database: publish it first.")
        if dimensions is not None and info.dimensions != dimensions:
            raise PgError(f"Collection '{collection}' holds {info.dimensions}-dimensional vectors, but the "
                          f"current model makes {dimensions}: publish it again with this model.")
        published_model = info.settings.get("model_id")
        if model_id is not None and published_model is not None and published_model != model_id:
            raise PgError(f"Collection '{collection}' was published with model '{published_model}', not "
                          f"'{model_id}': its vectors cannot be compared with this model's queries.")
        if not 1 <= ef_search <= EF_SEARCH_MAX:
            raise ValueError(f"ef_search must be between 1 and {EF_SEARCH_MAX}; got {ef_search}.")
        self._conn = conn
        self.collection = collection
        self.info = info
        self.ef_search = ef_search
        self.exact = exact
        self._table = sql.Identifier(info.table)
        self._load_chunks()

    @classmethod
    def create(cls, conn: psycopg.Connection, collection: str, dimensions: int, *,
               settings: dict | None = None, **kwargs) -> PgVectorStore:
        """An empty collection for `add` (an existing one of that name is refused, not replaced)."""
        check_name(collection)
        table = _new_table_name()
        with _database_errors("create", collection), conn.transaction():
            ensure_schema(conn)
            _lock_name(conn, collection)
            if get_collection(conn, collection) is not None:
                raise PgError(f"A collection named '{collection}' already exists: open it, or publish over it.")
            _create_table(conn, table, dimensions, TEXT_SEARCH_CONFIG)
            _create_indexes(conn, table)
            conn.execute(sql.SQL(
                """INSERT INTO {} (name, table_name, dimensions, size, settings, hnsw_m, hnsw_ef_construction,
                                   text_search) VALUES (%s, %s, %s, 0, %s, %s, %s, %s)"""
            ).format(sql.Identifier(COLLECTIONS)),
                [collection, table, dimensions, Jsonb(settings or {}), HNSW_M, HNSW_EF_CONSTRUCTION,
                 TEXT_SEARCH_CONFIG])
        return cls(conn, collection, dimensions=dimensions, **kwargs)

    def _load_chunks(self) -> None:
        with self._reading():
            rows = self._rows()
        self._seq = np.array([r[0] for r in rows], dtype=np.int64)
        self._chunks = [Chunk(r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9]) for r in rows]
        self._position = {int(s): i for i, s in enumerate(self._seq)}

    def _rows(self) -> list:
        return self._conn.execute(sql.SQL(
            "SELECT seq, doc, idx, start_offset, end_offset, text, n_tokens, section, page, header FROM {} ORDER BY seq"
        ).format(self._table)).fetchall()

    @property
    def size(self) -> int:
        return len(self._chunks)

    @property
    def dimensions(self) -> int:
        return self.info.dimensions

    def chunks(self) -> Sequence[Chunk]:
        return self._chunks

    def _update_size(self) -> None:
        self._conn.execute(sql.SQL("UPDATE {} SET size = (SELECT count(*) FROM {}) WHERE name = %s").format(
            sql.Identifier(COLLECTIONS), self._table), [self.collection])

    def add(self, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = _as_matrix(vectors, self.dimensions)
        if len(chunks) != len(vectors):
            raise ValueError("Need exactly one vector per chunk.")
        if not len(vectors):
            return
        with self._conn.transaction():
            _copy_rows(self._conn, self.info.table, chunks, vectors)
            self._update_size()
        self._load_chunks()

    def replace_document(self, doc: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        vectors = _as_matrix(vectors, self.dimensions)
        if len(chunks) != len(vectors):
            raise ValueError("Need exactly one vector per chunk.")
        with self._conn.transaction():
            self._conn.execute(sql.SQL("DELETE FROM {} WHERE doc = %s").format(self._table), [doc])
            if len(chunks):
                _copy_rows(self._conn, self.info.table, chunks, vectors)
            self._update_size()
        self._load_chunks()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        try:
            yield
        except errors.UndefinedTable:
            raise PgError(f"Collection '{self.collection}' was published again or dropped since it was opened: "
                          "open it again.") from None
        except errors.UndefinedColumn:
            raise PgError(f"Collection '{self.collection}' was published by an older version of this app: "
                          "publish it again.") from None
        except psycopg.OperationalError as e:
            raise PgError(f"Lost the connection to PostgreSQL ({type(e).__name__}): reconnect and open "
                          f"'{self.collection}' again.") from None

    def search(self, query: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        n = min(n, self.size)
        if n <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        # HNSW returns at most ef_search rows (pgvector 0.6 has no iterative scan): widen it to n,
        # and past pgvector's limit scan exactly rather than return fewer than asked.
        exact = self.exact or n > EF_SEARCH_MAX
        with self._reading():
            if exact:
                # "+ 0" keeps the planner off the index. A GUC such as enable_indexscan would not do:
                # psycopg prepares repeated statements, and a prepared plan ignores later GUC changes.
                rows = self._conn.execute(sql.SQL(
                    "SELECT seq, embedding <=> %s AS distance FROM {} ORDER BY (embedding <=> %s) + 0, seq LIMIT %s"
                ).format(self._table), [q, q, n]).fetchall()
            else:
                with self._conn.transaction():
                    self._conn.execute("SELECT set_config('hnsw.ef_search', %s, true)",
                                       [str(max(self.ef_search, n))])
                    rows = self._conn.execute(sql.SQL(
                        "SELECT seq, embedding <=> %s AS distance FROM {} ORDER BY distance LIMIT %s"
                    ).format(self._table), [q, n]).fetchall()
        # Equal cosines come back in any order from an index: break ties by id, as FAISS does.
        ranked = sorted((float(d), self._position[int(s)]) for s, d in rows)
        ids = np.array([i for _, i in ranked], dtype=np.int64)
        return np.array([1.0 - d for d, _ in ranked], dtype=np.float32), ids

    def similarity(self, query: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        if not len(ids):
            return np.zeros(0, dtype=np.float32)
        seqs = [int(self._seq[i]) for i in ids]
        q = np.asarray(query, dtype=np.float32).reshape(-1)
        with self._reading():
            rows = self._conn.execute(sql.SQL(
                "SELECT seq, 1 - (embedding <=> %s) FROM {} WHERE seq = ANY(%s)"
            ).format(self._table), [q, seqs]).fetchall()
        cosine = {int(s): float(c) for s, c in rows}
        return np.array([cosine[s] for s in seqs], dtype=np.float32)

    def vectors(self) -> np.ndarray | None:
        return None

    def facts(self) -> StoreFacts:
        how = ("exact scan" if self.exact else
               f"HNSW m={self.info.hnsw_m}, ef_construction={self.info.hnsw_ef_construction}, "
               f"ef_search={self.ef_search}")
        return StoreFacts(f"PostgreSQL + pgvector, collection '{self.collection}' ({how})", self.size,
                          self.dimensions, None, exact=self.exact)
