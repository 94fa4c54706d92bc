"""Connecting to PostgreSQL + pgvector: a URL the user gives, or an embedded local server.

The embedded server comes from the `pgserver` package (PostgreSQL 16 with pgvector, starts
offline); its data folder lives under the app's cache folder, `cache_dir / "postgres"`, so a
published collection survives a restart. Run as root, pgserver runs PostgreSQL as a system user
`pgserver` (creating it) and opens every parent folder of the data folder to all users; when that
would open a private folder (a root home's ~/.cache), `embedded_plan` puts the data in
/var/lib/rag-explorer/postgres instead, and the page says where and why. Every connection is in autocommit mode with pgvector's
types registered (numpy arrays go in and out as `vector`), and writers open their own
transactions.

Every failure becomes a `PgError` (a `ValueError`) whose message says what to do next. A
connection URL may carry a password: it never appears in a message (`redact`), whatever the
driver put into its own error text.
"""
from __future__ import annotations

import getpass
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
from psycopg import errors
from psycopg.conninfo import conninfo_to_dict

MASK = "***"
_URL_PASSWORD = re.compile(r"(://[^:/@\s]*:)([^@\s]*)(@)")
_KEYWORD_PASSWORD = re.compile(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.IGNORECASE)


class PgError(ValueError):
    """A database problem, worded for the person who can fix it (never carries a password)."""


@dataclass(frozen=True)
class ServerInfo:
    """What a page may say about the server in use."""

    where: str  # the redacted URL, or "embedded (folder)"
    embedded: bool
    postgres_version: str  # e.g. "16.2"
    pgvector_version: str  # e.g. "0.6.2"


def redact(text: str, url: str | None = None) -> str:
    """`text` with any password (of `url`, or written in URL or keyword form) replaced by ***."""
    secrets: set[str] = set()
    if url:
        try:
            password = conninfo_to_dict(url).get("password")
        except psycopg.Error:
            password = None
        if password:
            secrets |= {str(password), quote(str(password), safe=""), quote(str(password))}
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _URL_PASSWORD.sub(lambda m: m.group(1) + MASK + m.group(3) if m.group(2) else m.group(0), text)
    return _KEYWORD_PASSWORD.sub(lambda m: m.group(1) + MASK, text)


ROOT_DATA_DIR = Path("/var/lib/rag-explorer/postgres")
_OTHERS_RX = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH


@dataclass(frozen=True)
class EmbeddedPlan:
    """Where the embedded server keeps its data, which system user runs it, and why (for the page)."""

    data_dir: Path
    system_user: str
    note: str


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def widened_by_pgserver(data_dir: Path) -> list[Path]:
    """Folders above `data_dir` that pgserver, run as root, would open to every user.

    As root, pgserver runs PostgreSQL as a system user `pgserver` (created with `useradd` if
    missing) and adds read and search permission for group and others to *every* parent folder
    of the data folder, up to `/`, so that user can reach it.
    """
    out = []
    for parent in Path(data_dir).expanduser().absolute().parents:
        if parent.exists() and (parent.stat().st_mode & _OTHERS_RX) != _OTHERS_RX:
            out.append(parent)
    return out


def embedded_plan(cache_dir: Path) -> EmbeddedPlan:
    """The embedded server's data folder: `cache_dir / "postgres"`, unless running as root would make
    pgserver open private folders (a root home's ~/.cache is mode 700) to everyone; then
    /var/lib/rag-explorer/postgres, whose parents are world-readable already."""
    preferred = Path(cache_dir).expanduser() / "postgres"
    if not _running_as_root():
        return EmbeddedPlan(preferred, getpass.getuser(),
                            "PostgreSQL runs as you; its data stays in the app's cache folder.")
    widened = widened_by_pgserver(preferred)
    if not widened:
        return EmbeddedPlan(preferred, "pgserver",
                            "The app runs as root, so pgserver runs PostgreSQL as the system user 'pgserver' "
                            "(created if missing); the data folder's parents are readable by everyone already.")
    names = ", ".join(str(p) for p in widened)
    return EmbeddedPlan(ROOT_DATA_DIR, "pgserver",
                        f"The app runs as root, so pgserver runs PostgreSQL as the system user 'pgserver' (created "
                        f"if missing) and opens every parent of its data folder to all users. Under the cache "
                        f"folder that would expose {names}, so the data lives in {ROOT_DATA_DIR} instead.")


def embedded_data_dir(cache_dir: Path) -> Path:
    """Where the embedded server keeps its data (see `embedded_plan`)."""
    return embedded_plan(cache_dir).data_dir


def start_embedded(data_dir: Path, *, delete_on_exit: bool = False) -> str:
    """Start (or join) the embedded PostgreSQL in `data_dir` and return its connection URL.

    The server listens on a Unix socket in its data folder only (no TCP port) and stops when the
    last process using it exits; `delete_on_exit` also removes the folder (tests).
    """
    try:
        import pgserver
    except ImportError:
        raise PgError("The embedded PostgreSQL needs the `pgserver` package: pip install -r requirements.txt.") from None
    data_dir = Path(data_dir).expanduser()
    try:
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(data_dir, cleanup_mode="delete" if delete_on_exit else "stop")
    except Exception as e:  # pgserver raises subprocess and OS errors of every kind
        raise PgError(f"Could not start the embedded PostgreSQL in {data_dir}: {e}. Its log is "
                      f"{data_dir / 'log'}; deleting that folder starts a fresh (empty) server.") from None
    return str(server.get_uri())


def stop_embedded(data_dir: Path) -> None:
    """Stop the embedded server of `data_dir` if this process started it (and delete its folder
    if it was started with `delete_on_exit`)."""
    try:
        from pgserver import PostgresServer
    except ImportError:
        return
    server = PostgresServer._instances.get(Path(data_dir).expanduser().resolve())
    if server is not None:
        server.cleanup()


def _describe_target(params: dict) -> str:
    host = params.get("host") or "localhost"
    port = params.get("port") or "5432"
    return f"{host}" if str(host).startswith("/") else f"{host}:{port}"


def connect(url: str, *, timeout: int = 5, create_extension: bool = True) -> psycopg.Connection:
    """An autocommit connection to `url` with pgvector ready (created when missing and allowed)."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.Error:
        raise PgError("That is not a PostgreSQL connection URL. Write it as "
                      "postgresql://user:password@host:5432/database.") from None
    target, user = _describe_target(params), params.get("user") or "(default user)"
    db = params.get("dbname") or user
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=timeout)
    except psycopg.Error as e:
        detail = redact(str(e).strip(), url)
        low = detail.lower()
        if "password authentication failed" in low or "no password supplied" in low:
            message = f"PostgreSQL at {target} refused user '{user}': check the user name and password."
        elif "does not exist" in low and "database" in low:
            message = f"There is no database '{db}' on {target}: create it, or name another in the URL."
        elif "resolve host" in low or "could not translate host name" in low:
            message = f"Cannot find the host {target}: check the host name in the URL."
        elif "invalid" in low and "port" in low:
            message = "The port in the URL is not a number: write it as host:5432."
        else:
            message = (f"Could not reach PostgreSQL at {target}. Is the server running and accepting "
                       f"connections there? ({detail})")
        raise PgError(redact(message, url)) from None
    try:
        ensure_pgvector(conn, create=create_extension)
        from pgvector.psycopg import register_vector

        register_vector(conn)
    except PgError:
        conn.close()
        raise
    except psycopg.Error as e:
        conn.close()
        raise PgError(redact(f"Could not set up pgvector on {target}: {e}", url)) from None
    return conn


def ensure_pgvector(conn: psycopg.Connection, *, create: bool = True) -> str:
    """pgvector's version in this database, creating the extension if it is missing and allowed."""
    version = pgvector_version(conn)
    if version:
        return version
    db = conn.info.dbname
    if not create:
        raise PgError(f"The pgvector extension is not enabled in database '{db}'. Run CREATE EXTENSION vector; "
                      "there once, as a user allowed to.")
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    except errors.InsufficientPrivilege:
        raise PgError(f"User '{conn.info.user}' may not enable pgvector in database '{db}'. Ask its owner or "
                      f"an administrator to run CREATE EXTENSION vector; there once, then try again.") from None
    except (errors.FeatureNotSupported, errors.UndefinedFile):
        raise PgError("This PostgreSQL server has no pgvector extension installed. Install it (for example the "
                      "postgresql-16-pgvector package, or pick a managed PostgreSQL that offers pgvector), or use "
                      "the embedded server.") from None
    return pgvector_version(conn) or "?"


def pgvector_version(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
    return str(row[0]) if row else None


def server_info(conn: psycopg.Connection, *, url: str, embedded: bool = False) -> ServerInfo:
    """The server's own versions, read from it (not from the Python packages)."""
    row = conn.execute("SELECT current_setting('server_version')").fetchone()
    version = str(row[0]).split()[0] if row else "?"
    where = redact(url, url)
    if embedded:
        host = conninfo_to_dict(url).get("host")
        where = f"embedded ({host})"
    return ServerInfo(where, embedded, version, pgvector_version(conn) or "not installed")
