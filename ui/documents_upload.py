"""Reading uploads on the Documents page: each file in a bounded worker, with progress and Cancel,
and the limits shown so a refusal is never a surprise.

Files are read one at a time per session (core.extract), each added to the session as soon as it is
read, so a Cancel or a slow file never loses the files read before it. Cancel works like the index
build's: the click reruns the script, Streamlit interrupts the running one at its next progress
update, and the worker is killed on the way out (as it is when the browser tab closes).
"""
from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import streamlit as st

from core.documents import skip_empty
from core.extract import OK, extract
from core.limits import Limits
from ui import state
from ui.text import md

MESSAGES = "_upload_messages"  # (level, text) pairs kept across reruns so nothing flashes away
SEEN = "_uploaded_file_ids"
READING = "_reading_files"  # [(file id, name)] not yet read in the current batch: what Cancel skips


def limits_for(limits: Limits, max_mb: int) -> Limits:
    """The settings' budget with the page's own per-file size limit."""
    return replace(limits, max_bytes=int(max_mb * 1024 * 1024))


def show_limits(limits: Limits) -> None:
    """The budget every file is read within, and the variable that sets each limit."""
    with st.expander("Limits for each file", expanded=False, icon=":material/shield:"):
        st.caption("Every upload is read in a separate worker process that cannot exceed these limits; a file "
                   "over one is refused with a message saying which. The server's administrator sets them "
                   "with environment variables (read when the app starts).")
        st.dataframe(pd.DataFrame(limits.rows(), columns=["limit", "value", "environment variable"]),
                     hide_index=True, width="stretch", key="docs_limits_table")


def _cancel() -> None:
    """Cancel's click: the files not read yet are skipped, and say so."""
    pending = st.session_state.pop(READING, [])
    seen: set = st.session_state.setdefault(SEEN, set())
    seen.update(file_id for file_id, _ in pending)
    messages = st.session_state.setdefault(MESSAGES, [])
    messages += [("info", f"{name}: reading was cancelled; upload it again to retry.") for _, name in pending]


def read_uploads(fresh: list, limits: Limits) -> None:
    """Read each new upload within `limits`; results and messages go to the session as they come."""
    seen: set = st.session_state.setdefault(SEEN, set())
    messages: list = []
    st.session_state[MESSAGES] = messages
    st.session_state[READING] = [(f.file_id, f.name) for f in fresh]
    loaded = 0
    slot = st.empty()  # the progress and Cancel go once every file is read
    with slot.container(border=True, key="docs_reading"):
        head = st.empty()
        line = st.empty()
        st.button("Cancel", key="docs_cancel_read", on_click=_cancel, icon=":material/cancel:",
                  help="Stops reading: files already read are kept, the rest are skipped.")
        last = [0.0]

        def tick(elapsed: float, what: str) -> None:
            # Each update is also where Streamlit can stop this run (Cancel, page switch, tab closed).
            now = time.perf_counter()
            if now - last[0] >= 0.5:
                last[0] = now
                line.caption(md(f"{what} · {elapsed:.0f} s of the {limits.max_seconds:.0f} s budget"))

        for k, upload in enumerate(fresh, start=1):
            head.markdown(f":material/hourglass_top: **Reading {md(upload.name)}** ({k} of {len(fresh)})")
            line.caption("starting a reader...")
            last[0] = 0.0
            result = extract(upload.getvalue(), upload.name, limits=limits, tick=tick)
            seen.add(upload.file_id)
            st.session_state[READING] = st.session_state.get(READING, [])[1:]
            if result.outcome == OK and result.document is not None:
                kept, notes = skip_empty([result.document])
                replaced = state.add_documents(kept)
                loaded += len(kept)
                messages += [("warning", note) for note in notes + list(result.document.notes)]
                messages += [("info", f"{name}: replaced the earlier version.") for name in replaced]
            else:
                messages.append(("error", result.error))
    slot.empty()
    st.session_state.pop(READING, None)
    if loaded:
        messages.append(("success", f"Loaded {loaded} document(s)."))
