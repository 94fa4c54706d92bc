"""The budget every uploaded file is read within: bytes in, time, memory, characters out, unpacked size.

One frozen object, built from AppSettings (and so from the environment, once) and handed to the
loaders and to the extraction worker. The defaults protect a 2-core, 24 GB machine shared by a few
users: a file may take one core for two minutes and 2 GB at most, and four files can be read at once
(4 x 2 GB leaves room for the server, the model and the indexes). Why each default, in numbers:

- 25 MB per file: the largest ordinary PDF/DOCX a person uploads; the server's upload cap is 50 MB.
- 30 million characters out: a 25 MB plain-text file (the largest allowed) fits; a 30M-character
  corpus is ~7.5M tokens, about 20 minutes of embedding here, the most worth indexing interactively.
- 120 s per file: a normal 300-page PDF reads in well under 30 s here; a content-stream bomb that
  would take hours is stopped.
- 2048 MB address space per worker: every sample reads under 200 MB; a 25 MB PDF or HTML file fits.
- 100 MB unpacked per DOCX archive and 5,000 entries: a 30M-character document is well under 100 MB
  of XML in practice, while zip bombs expand a thousand-fold.
"""
from __future__ import annotations

from dataclasses import dataclass

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 25 * MB          # the file as uploaded
    max_chars: int = 30_000_000       # extracted text
    max_seconds: float = 120.0        # wall clock of one file's extraction
    max_memory_mb: int = 2048         # address space of the worker reading one file
    max_unzipped_mb: int = 100        # everything inside a DOCX archive, unpacked
    max_zip_entries: int = 5000       # files inside a DOCX archive
    workers: int = 4                  # files read at once, over all sessions

    def __post_init__(self) -> None:
        checks = [
            (self.max_bytes >= 1, "The per-file size limit must be at least 1 byte", "RAG_EXPLORER_MAX_FILE_MB",
             self.max_bytes),
            (self.max_chars >= 1000, "The limit on extracted characters must be at least 1,000",
             "RAG_EXPLORER_MAX_CHARS", self.max_chars),
            (0.5 <= self.max_seconds <= 3600, "The time limit per file must be between 0.5 s and 1 hour",
             "RAG_EXPLORER_MAX_SECONDS", self.max_seconds),
            (256 <= self.max_memory_mb, "The memory limit per file must be at least 256 MB (a Python process "
             "needs about 60 MB before it reads anything)", "RAG_EXPLORER_MAX_MEMORY_MB", self.max_memory_mb),
            (self.max_unzipped_mb >= 1, "The limit on unpacked DOCX content must be at least 1 MB",
             "RAG_EXPLORER_MAX_UNZIPPED_MB", self.max_unzipped_mb),
            (self.max_zip_entries >= 10, "The limit on files inside a DOCX must be at least 10",
             "RAG_EXPLORER_MAX_ZIP_ENTRIES", self.max_zip_entries),
            (1 <= self.workers <= 64, "The number of files read at once must be between 1 and 64",
             "RAG_EXPLORER_READ_WORKERS", self.workers),
        ]
        for ok, message, variable, value in checks:
            if not ok:
                raise ValueError(f"{message}; got {value} ({variable}).")

    @property
    def max_unzipped_bytes(self) -> int:
        return self.max_unzipped_mb * MB

    def rows(self) -> list[tuple[str, str, str]]:
        """(limit, value, environment variable) for the Documents page and the README."""
        return [
            ("Size of a file", f"{self.max_bytes / MB:,.0f} MB", "RAG_EXPLORER_MAX_FILE_MB"),
            ("Text extracted from a file", f"{self.max_chars:,} characters", "RAG_EXPLORER_MAX_CHARS"),
            ("Time to read a file", f"{self.max_seconds:,.0f} s", "RAG_EXPLORER_MAX_SECONDS"),
            ("Memory to read a file", f"{self.max_memory_mb:,} MB", "RAG_EXPLORER_MAX_MEMORY_MB"),
            ("DOCX content, unpacked", f"{self.max_unzipped_mb:,} MB", "RAG_EXPLORER_MAX_UNZIPPED_MB"),
            ("Files inside a DOCX", f"{self.max_zip_entries:,}", "RAG_EXPLORER_MAX_ZIP_ENTRIES"),
            ("Files read at once (all users)", f"{self.workers}", "RAG_EXPLORER_READ_WORKERS"),
        ]


def size(n: float) -> str:
    """A byte count as a person reads it: 236 KB, 2.1 GB."""
    for unit, scale in (("GB", 1024 * MB), ("MB", MB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"


# Tokens embedded per second on this project's reference machine (all-MiniLM-L6-v2, fp32, 2 cores;
# /work/shared/DESIGN.md): the estimate before the first build of a process has measured its own.
DEFAULT_TOKENS_PER_SECOND = 6500.0
# Builds estimated to take longer than this ask before they start.
LONG_BUILD_SECONDS = 180.0


def embedding_tokens(chunk_tokens: list[int], *, window: int) -> int:
    """Tokens the model reads to index chunks of these lengths: each chunk is cut at the model's
    window, plus the two markers; the sentence bank reads the same text again, sentence by sentence."""
    chunks = sum(min(n, window) + 2 for n in chunk_tokens)
    sentences = sum(chunk_tokens)  # every token once more, in sentences (overlap aside)
    return chunks + sentences


def build_seconds(tokens: int, *, tokens_per_second: float) -> float:
    """Time to embed `tokens` at a throughput (cached vectors make the real build shorter)."""
    if tokens_per_second <= 0:
        raise ValueError(f"The embedding throughput must be positive; got {tokens_per_second}.")
    return tokens / tokens_per_second
