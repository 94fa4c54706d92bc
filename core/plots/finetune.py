"""Figures about a fine-tuning training file."""
from __future__ import annotations

import statistics
from collections.abc import Sequence

import plotly.graph_objects as go

from core.plots import marker_line


def length_histogram(tokens: Sequence[int], *, flagged: Sequence[int] = ()) -> go.Figure:
    """Tokens per example; `flagged` (duplicates, near-empty answers) drawn in a second colour."""
    fig = go.Figure()
    fig.add_histogram(x=list(tokens), name="clean examples", marker_color="#3b82f6", nbinsx=30)
    if flagged:
        fig.add_histogram(x=list(flagged), name="flagged (duplicate or near-empty)", marker_color="#ef4444",
                          nbinsx=30)
    everything = list(tokens) + list(flagged)
    if everything:
        median = statistics.median(everything)
        marker_line(fig, median, name=f"median: {median:,.0f} tokens", colour="#374151")
    fig.update_layout(
        barmode="overlay", bargap=0.05, height=320, margin=dict(l=10, r=10, t=40, b=10),
        xaxis_title="tokens per example (approximate)", yaxis_title="examples",
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    return fig
