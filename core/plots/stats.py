"""Figures of how sure the numbers are: a sweep's settings with their 95% intervals."""
from __future__ import annotations

import plotly.graph_objects as go

from core.plots import LEGEND_RIGHT
from core.stats import SweepStats

TIED, NOT_TIED, PICK = "#1d4ed8", "#9ca3af", "#f59e0b"


def interval_figure(sw: SweepStats, *, metric: str, approximate: bool = False, limit: int = 15) -> go.Figure:
    """The best `limit` settings (in the order given to sweep_stats: best first) as points with their
    95% intervals; the group tied with the best in blue, the rest grey, the recommendation starred.

    Overlapping intervals do not by themselves mean "tied": the colour comes from the paired tests,
    which are sharper because both settings answer the same questions.
    """
    shown = list(range(min(limit, len(sw.labels))))
    if sw.recommended not in shown:
        shown.append(sw.recommended)
    fig = go.Figure()
    for tied, colour, name in ((True, TIED, "tied with the best"), (False, NOT_TIED, "reliably worse than the best")):
        idx = [i for i in shown if sw.tied[i] == tied]
        if not idx:
            continue
        fig.add_scatter(
            x=[sw.intervals[i].mean for i in idx], y=[sw.labels[i] for i in idx], mode="markers", name=name,
            marker=dict(size=10, color=colour),
            error_x=dict(type="data", symmetric=False, color=colour, thickness=2,
                         array=[sw.intervals[i].hi - sw.intervals[i].mean for i in idx],
                         arrayminus=[sw.intervals[i].mean - sw.intervals[i].lo for i in idx]),
            customdata=[[sw.intervals[i].lo, sw.intervals[i].hi, sw.prob_best[i], sw.tokens[i]] for i in idx],
            hovertemplate=(f"%{{y}}<br>{metric} %{{x:.3f}} (95% CI %{{customdata[0]:.3f}}–%{{customdata[1]:.3f}})"
                           "<br>P(best) %{customdata[2]:.2f} · %{customdata[3]:,.0f} prompt tokens<extra></extra>"),
        )
    r = sw.recommended
    fig.add_scatter(x=[sw.intervals[r].mean], y=[sw.labels[r]], mode="markers", name="recommended (smallest prompt)",
                    marker=dict(symbol="star", size=18, color=PICK, line=dict(color="#78350f", width=1)),
                    hoverinfo="skip")
    title = f"{metric} with 95% intervals, best first"
    if approximate:
        title += "<br><sup>≈ approximate (fast pooled mode)</sup>"
    fig.update_layout(title=title, xaxis_title=metric, height=max(260, 70 + 26 * len(shown)),
                      margin=dict(l=10, r=10, t=60, b=10), legend=LEGEND_RIGHT)
    fig.update_yaxes(autorange="reversed", categoryorder="array", categoryarray=[sw.labels[i] for i in shown])
    return fig
