"""AppSettings: read once from the environment, validated, and in step with the server config."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core.chunking import ChunkConfig
from core.settings import AppSettings

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_and_environment():
    assert AppSettings.from_env({}) == AppSettings()
    s = AppSettings.from_env({"RAG_EXPLORER_BACKEND": "torch", "RAG_EXPLORER_CACHE": "/tmp/x",
                              "RAG_EXPLORER_MAX_FILE_MB": "10", "RAG_EXPLORER_STORE": "faiss"})
    assert (s.backend, str(s.cache_dir), s.max_file_mb, s.store) == ("torch", "/tmp/x", 10, "faiss")
    assert s.model_id == "all-MiniLM-L6-v2/torch"


@pytest.mark.parametrize("env, message", [
    ({"RAG_EXPLORER_BACKEND": "onnx"}, "Unknown embedding backend 'onnx'"),
    ({"RAG_EXPLORER_STORE": "chroma"}, "Unknown vector store 'chroma'"),
    ({"RAG_EXPLORER_MAX_FILE_MB": "ten"}, "whole number"),
    ({"RAG_EXPLORER_MAX_FILE_MB": "500"}, "between 1 and 50"),
])
def test_bad_values_say_what_to_do(env, message):
    with pytest.raises(ValueError, match=message):
        AppSettings.from_env(env)


def test_server_upload_limit_matches_streamlit_config():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert AppSettings().server_upload_mb == config["server"]["maxUploadSize"]


@pytest.mark.parametrize("unit", ["tokens", "chars"])
def test_size_range_is_what_chunk_config_accepts(unit):
    lo, hi = AppSettings.chunk_size_range(unit)
    ChunkConfig(size=lo, overlap=0, unit=unit)
    ChunkConfig(size=hi, overlap=0, unit=unit)
    for bad in (lo - 1, hi + 1):
        with pytest.raises(ValueError, match="Chunk size"):
            ChunkConfig(size=bad, overlap=0, unit=unit)


def test_no_module_reads_the_environment_at_import_time():
    """Importing core and ui must not consult os.environ (settings are read once, on purpose)."""
    import ast

    offenders = []
    for path in sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "ui").rglob("*.py")):
        tree = ast.parse(path.read_text())
        for node in tree.body:  # module level only: function bodies run later, on purpose
            if any(isinstance(n, ast.Attribute) and n.attr == "environ" for n in ast.walk(node)):
                if not isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_reading_limits_come_from_the_environment():
    s = AppSettings.from_env({"RAG_EXPLORER_MAX_CHARS": "1_000_000", "RAG_EXPLORER_MAX_SECONDS": "30",
                              "RAG_EXPLORER_MAX_MEMORY_MB": "512", "RAG_EXPLORER_MAX_UNZIPPED_MB": "50",
                              "RAG_EXPLORER_MAX_ZIP_ENTRIES": "100", "RAG_EXPLORER_READ_WORKERS": "2",
                              "RAG_EXPLORER_MAX_FILE_MB": "10"})
    limits = s.limits
    assert (limits.max_chars, limits.max_seconds, limits.max_memory_mb, limits.max_unzipped_mb,
            limits.max_zip_entries, limits.workers) == (1_000_000, 30.0, 512, 50, 100, 2)
    assert limits.max_bytes == 10 * 1024 * 1024
    # The defaults protect a 2-core, 24 GB machine: every worker's memory at once fits well inside it.
    default = AppSettings().limits
    assert default.workers * default.max_memory_mb <= 12 * 1024 and default.max_seconds <= 300


@pytest.mark.parametrize("env, message", [
    ({"RAG_EXPLORER_MAX_SECONDS": "soon"}, "RAG_EXPLORER_MAX_SECONDS must be a number"),
    ({"RAG_EXPLORER_MAX_MEMORY_MB": "100"}, r"at least 256 MB.*RAG_EXPLORER_MAX_MEMORY_MB"),
    ({"RAG_EXPLORER_READ_WORKERS": "0"}, r"between 1 and 64.*RAG_EXPLORER_READ_WORKERS"),
    ({"RAG_EXPLORER_MAX_CHARS": "10"}, r"at least 1,000.*RAG_EXPLORER_MAX_CHARS"),
])
def test_bad_reading_limits_name_their_variable(env, message):
    with pytest.raises(ValueError, match=message):
        AppSettings.from_env(env)


def test_every_limit_is_documented_where_people_look():
    """The Documents page's table, the settings docstring and the README name the same variables."""
    import core.settings

    readme = (ROOT / "README.md").read_text()
    for _, _, variable in AppSettings().limits.rows():
        assert variable in (core.settings.__doc__ or ""), variable
        assert variable in readme, variable
