"""Documents: upload files or load the samples; inspect and remove what is loaded."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core import model
from core.documents import SUPPORTED_EXTENSIONS
from ui import state
from ui.documents_upload import MESSAGES, SEEN, limits_for, read_uploads, show_limits
from ui.resources import settings
from ui.text import md
from ui.widgets import load_samples

LIMIT = "_max_file_mb"  # the per-file limit, kept across page switches

st.title("Documents")
st.caption("Upload PDF, HTML, Markdown, plain text or DOCX; a file without an extension (LICENSE, README) is read "
           "as text when it is text. Each file is read independently: one bad file never stops the others.")

limits = settings()
# The limit survives page switches through a plain copy passed as the widget's value, not through
# keep_widget: a number input whose value came from session state showed its default (its minimum,
# 1 MB) in the browser after "Load sample documents", and the next upload was read with that limit.
kept_mb = st.session_state.setdefault(LIMIT, limits.max_file_mb)
max_mb = st.number_input(
    "Size limit per file (MB)", min_value=1, max_value=limits.server_upload_mb, value=kept_mb, step=1,
    key="max_file_mb",
    help=f"Files above this are refused with a message. The server accepts at most {limits.server_upload_mb} MB "
         "per file (.streamlit/config.toml); RAG_EXPLORER_MAX_FILE_MB sets this field's default.",
)
st.session_state[LIMIT] = max_mb
# No type= filter: Streamlit's filter refuses files without an extension with a generic message
# before the app sees them. The loader decides per file instead, and says why it refuses one.
uploads = st.file_uploader(
    "Add documents", accept_multiple_files=True, key="uploader",
    on_change=lambda: st.session_state.pop(MESSAGES, None),  # a new upload makes the old banners stale
    help=f"Supported: {', '.join(SUPPORTED_EXTENSIONS)}, and plain text without an extension.",
)
budget = limits_for(settings().limits, max_mb)
st.caption(f"Files up to **{max_mb} MB** each are read: the size limit above. The uploader itself takes up to "
           f"{limits.server_upload_mb} MB per file, the most that limit can be raised to. Each file gets at most "
           f"{budget.max_seconds:.0f} s, {budget.max_memory_mb:,} MB of memory and {budget.max_chars:,} characters "
           "of text.")
show_limits(budget)

seen: set = st.session_state.setdefault(SEEN, set())
fresh = [f for f in uploads or [] if f.file_id not in seen]
if fresh:
    read_uploads(fresh, budget)

c1, c2, _ = st.columns([1, 1, 3])
if c1.button("Load sample documents", key="docs_load_samples", type="primary"):
    with st.spinner("Loading samples..."):
        load_samples()
    st.session_state[MESSAGES] = [("success", "Loaded the sample documents.")]
if c2.button("Remove all", key="docs_remove_all", disabled=not state.documents()):
    state.clear_documents()
    st.session_state[MESSAGES] = [("info", "Removed all documents.")]

for level, text in st.session_state.get(MESSAGES, []):
    getattr(st, level)(md(text))  # messages carry file names: never let them become markup

docs = state.documents()
if not docs:
    st.info("No documents yet: upload some above or load the samples.")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=500)
def _token_count(digest: str, _text: str) -> int:
    # Keyed by the digest alone (hashing a 25 MB text on every rerun is wasted work), counted in
    # bounded pieces: counting a 24 MB text in one call peaked at 3.6 GB.
    return model.count_tokens_long(_text)


st.subheader(f"Loaded documents ({len(docs)})")
table = pd.DataFrame(
    [
        {
            "name": d.name,
            "type": d.kind,
            "pages": d.pages,
            "characters": len(d.text),
            "tokens": _token_count(d.digest, d.text),
            "size (KB)": round(d.n_bytes / 1024, 1),
        }
        for d in docs.values()
    ]
)
st.dataframe(table, hide_index=True, width="stretch", key="docs_table")
st.caption(f"Tokens are counted with the embedding model's tokenizer ({model.MODEL_ID}).")

st.subheader("Preview")
name = st.selectbox("Document", list(docs), key="preview_doc")
doc = docs[name]
c1, c2 = st.columns([4, 1])
preview_chars = 5000
c1.text_area(
    f"Extracted text (first {min(preview_chars, len(doc.text)):,} of {len(doc.text):,} characters)",
    doc.text[:preview_chars], height=300, disabled=True, key=f"preview_text_{doc.digest}",
)
if c2.button("Remove this document", key="remove_doc"):
    state.remove_document(name)
    st.session_state[MESSAGES] = [("info", f"Removed {name}.")]
    st.rerun()
