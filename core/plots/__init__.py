"""plotly figure builders (plotly only, never streamlit)."""
from __future__ import annotations

import plotly.graph_objects as go

# Legends to the right of the plot, top-aligned: a legend under the plot sits where the x-axis
# title is drawn (plotly anchors a low legend by its bottom, so each extra row grows up into the
# title), and one above it meets the figure's title.
LEGEND_RIGHT = dict(orientation="v", x=1.02, xanchor="left", y=1, yanchor="top")


def marker_line(fig: go.Figure, x: float, *, name: str, colour: str, dash: str = "dash") -> None:
    """A vertical line at `x`, named in the legend rather than by a label beside it on the plot,
    where a bar can be drawn over the label."""
    fig.add_vline(x=x, line_dash=dash, line_color=colour)
    fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=colour, dash=dash),
                    hoverinfo="skip")
