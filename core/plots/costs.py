"""Figures of the cost comparison: cumulative spend over time and monthly cost against volume."""
from __future__ import annotations

import math

import plotly.graph_objects as go

from core.costs import VOLUME_RANGE, CostComparison

COLOURS = {"rag": "#2563eb", "fine_tuning": "#f59e0b", "hybrid": "#10b981"}
# Title top left, legend top right, so the two never overlap.
_LAYOUT = dict(height=400, margin=dict(l=10, r=10, t=70, b=10), hovermode="x unified",
               title=dict(x=0, xanchor="left", y=0.97, yanchor="top"),
               legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="right", x=1))


def cumulative_figure(comparison: CostComparison) -> go.Figure:
    """Total spent by the end of each month; month 0 holds the one-off costs."""
    fig = go.Figure()
    for a in comparison.approaches:
        fig.add_scatter(x=list(comparison.months), y=list(a.cumulative), name=a.name, mode="lines+markers",
                        line=dict(color=COLOURS[a.approach], width=2), marker=dict(size=4),
                        hovertemplate="%{y:$,.2f}")
    if comparison.break_even_month:
        fig.add_vline(x=comparison.break_even_month, line_dash="dash", line_color="#6b7280",
                      annotation_text=f"fine-tuning cheaper from month {comparison.break_even_month}",
                      annotation_position="top right")
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title_text="Cumulative cost", xaxis_title="month", yaxis_title="USD spent so far",
                      yaxis_tickprefix="$", xaxis_range=[0, comparison.inputs.horizon_months])
    return fig


def volume_figure(comparison: CostComparison, *, points: int = 61) -> go.Figure:
    """Monthly cost against queries per month (log axes); one-off costs spread over the horizon."""
    lo, hi = VOLUME_RANGE
    step = (math.log10(hi) - math.log10(lo)) / (points - 1)
    volumes = [10 ** (math.log10(lo) + k * step) for k in range(points)]
    horizon = comparison.inputs.horizon_months
    fig = go.Figure()
    for a in comparison.approaches:
        fig.add_scatter(x=volumes, y=[a.monthly_at(v, horizon=horizon) for v in volumes], name=a.name,
                        mode="lines", line=dict(color=COLOURS[a.approach], width=2),
                        hovertemplate="%{y:$,.2f}")
    _log_x_marker(fig, comparison.inputs.queries_per_month, "your volume", dash="dot", colour="#6b7280", y=0.02)
    if comparison.volume.queries:
        _log_x_marker(fig, comparison.volume.queries, "break-even", dash="dash", colour="#b91c1c", y=0.98)
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title_text=f"Monthly cost by query volume (one-off costs spread over {horizon} months)",
                      xaxis_title="queries per month", yaxis_title="USD per month", xaxis_type="log",
                      yaxis_type="log", yaxis_tickprefix="$")
    return fig


def _log_x_marker(fig: go.Figure, x: float, text: str, *, dash: str, colour: str, y: float) -> None:
    """A labelled vertical line on a log x axis.

    add_vline's own annotation is placed at 10**x on log axes while its line is not (plotly.py
    issue #4012), so the label is a separate annotation given in log10 units.
    """
    fig.add_vline(x=x, line_dash=dash, line_color=colour)
    fig.add_annotation(x=math.log10(x), y=y, xref="x", yref="paper", text=text, showarrow=False,
                       xanchor="left", font=dict(color=colour, size=11))
