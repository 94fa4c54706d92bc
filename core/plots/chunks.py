"""Figures about a chunking: length distribution against the model's window."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from core import model
from core.chunking import Chunk
from core.plots import marker_line


def length_histogram(chunks: Sequence[Chunk]) -> go.Figure:
    window = model.TEXT_WINDOW
    over = [c.n_tokens for c in chunks if c.truncated]
    fig = go.Figure()
    fig.add_histogram(x=[c.n_tokens for c in chunks if not c.truncated], name="fits the window", marker_color="#3b82f6", nbinsx=40)
    if over:
        fig.add_histogram(x=over, name="truncated when embedded", marker_color="#ef4444", nbinsx=20)
    marker_line(fig, window, name=f"model window: {model.MAX_TOKENS} tokens ({window} of text)", colour="#b91c1c")
    fig.update_layout(
        barmode="overlay", bargap=0.05, height=320, margin=dict(l=10, r=10, t=40, b=10),
        xaxis_title="chunk length (model tokens)", yaxis_title="chunks",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    return fig
