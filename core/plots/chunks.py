"""Figures about a chunking: length distribution against the model's window."""
from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from core import model
from core.chunking import Chunk


def length_histogram(chunks: Sequence[Chunk]) -> go.Figure:
    window = model.TEXT_WINDOW
    over = [c.n_tokens for c in chunks if c.truncated]
    fig = go.Figure()
    fig.add_histogram(x=[c.n_tokens for c in chunks if not c.truncated], name="fits the window", marker_color="#3b82f6", nbinsx=40)
    if over:
        fig.add_histogram(x=over, name="truncated when embedded", marker_color="#ef4444", nbinsx=20)
    fig.add_vline(x=window, line_dash="dash", line_color="#b91c1c",
                  annotation_text=f"model window: {model.MAX_TOKENS} tokens ({window} of text)", annotation_position="top right")
    fig.update_layout(
        barmode="overlay", bargap=0.05, height=320, margin=dict(l=10, r=10, t=30, b=10),
        xaxis_title="chunk length (model tokens)", yaxis_title="chunks", legend=dict(orientation="h", y=1.12),
    )
    return fig
