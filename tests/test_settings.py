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
