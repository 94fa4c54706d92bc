"""Figures of the Evaluate page: sweep heatmap, metric vs K, A/B boundaries, embedding map.

Sweep figures say in their titles when the numbers are approximate (pooled fast mode), so a
screenshot can never pass an approximation off as a measurement. Hover text that quotes a
document is escaped: plotly renders a subset of HTML in hover labels.
"""
from __future__ import annotations

import html
import math
import textwrap
from collections.abc import Sequence

import plotly.graph_objects as go

from core.chunking import Chunk
from core.compare import BoundaryDiff, Confirmation
from core.evaluation import METRIC_LABELS
from core.plots import LEGEND_RIGHT
from core.projection import Projection
from core.sweep import SweepRow, rank_key

APPROX = "≈ approximate (fast pooled mode)"
_LAYOUT = dict(margin=dict(l=10, r=10, t=50, b=10), legend=LEGEND_RIGHT)


def metric_label(metric: str, k: int | str = "K") -> str:
    return METRIC_LABELS[metric].replace("K", str(k))


def _title(text: str, approximate: bool) -> str:
    return f"{text}<br><sup>{APPROX}</sup>" if approximate else text


# Light to dark blue, never white: the lowest cell must still read as a value, not as a gap.
HEAT_SCALE = [[0.0, "#dbeafe"], [1.0, "#1e3a8a"]]
BEST_COLOUR = "#f59e0b"


def sweep_heatmap(rows: Sequence[SweepRow], *, metric: str, k: int, method: str, splitter: str,
                  approximate: bool) -> go.Figure:
    """The metric over chunk size (rows) x overlap (columns) for one K, method and splitter.

    The colours span the values shown, not 0-1, so 0.90 and 0.99 look different; the best cell
    (by core.sweep.rank_key, the order every "best" in the app uses) is outlined and starred.
    """
    chosen = [r for r in rows if r.k == k and r.method == method and r.splitter == splitter]
    sizes = sorted({r.size for r in chosen})
    overlaps = sorted({r.overlap for r in chosen})
    value = {(r.size, r.overlap): getattr(r, metric) for r in chosen}
    z = [[value.get((s, o), math.nan) for o in overlaps] for s in sizes]
    best = min(chosen, key=lambda r: rank_key(r, metric), default=None)
    text = [["" if math.isnan(v) else f"{'★ ' if best and (s, o) == (best.size, best.overlap) else ''}{v:.2f}"
             for o, v in zip(overlaps, row)] for s, row in zip(sizes, z)]
    zmin, zmax = _colour_range(list(value.values()))
    unit = chosen[0].unit if chosen else "tokens"
    fig = go.Figure(go.Heatmap(
        z=z, x=[str(o) for o in overlaps], y=[str(s) for s in sizes], text=text, texttemplate="%{text}",
        textfont=dict(size=14), colorscale=HEAT_SCALE, zmin=zmin, zmax=zmax, xgap=2, ygap=2,
        colorbar=dict(title=metric_label(metric, k)),
        hovertemplate=f"size %{{y}} / overlap %{{x}} {unit}<br>{metric_label(metric, k)} = %{{z:.3f}}<extra></extra>",
    ))
    if best is not None:
        # Category axes place cell i at coordinate i, so the cell spans i - 0.5 to i + 0.5.
        col, row = overlaps.index(best.overlap), sizes.index(best.size)
        fig.add_shape(type="rect", x0=col - 0.5, x1=col + 0.5, y0=row - 0.5, y1=row + 0.5,
                      line=dict(color=BEST_COLOUR, width=4), name="best")
    fig.update_layout(
        title=_title(f"{metric_label(metric, k)} by chunk size and overlap ({splitter}, {method})", approximate),
        xaxis_title=f"overlap ({unit})", yaxis_title=f"chunk size ({unit})", height=360, **_LAYOUT,
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(type="category")
    return fig


def _colour_range(values: Sequence[float]) -> tuple[float, float]:
    """The values' own range; a single value (or all equal) gets a small band around it."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(finite), max(finite)
    if hi - lo < 1e-9:
        return lo - 0.05, hi + 0.05
    return lo, hi


def metric_vs_k(rows: Sequence[SweepRow], *, metric: str, splitter: str, approximate: bool) -> go.Figure:
    """One line per method: the best chunking's metric at each K (hover names the chunking)."""
    fig = go.Figure()
    for method in sorted({r.method for r in rows}):
        ks, ys, labels = [], [], []
        for k in sorted({r.k for r in rows}):
            cands = [r for r in rows if r.method == method and r.k == k and r.splitter == splitter]
            if not cands:
                continue
            best = min(cands, key=lambda r: (-getattr(r, metric), r.size, r.overlap))
            ks.append(k)
            ys.append(getattr(best, metric))
            labels.append(f"{best.size}/{best.overlap} {best.unit}")
        fig.add_scatter(x=ks, y=ys, mode="lines+markers", name=method, customdata=labels,
                        hovertemplate=f"{method}, K=%{{x}}: %{{y:.3f}}<br>best chunking %{{customdata}}<extra></extra>")
    fig.update_xaxes(tickvals=sorted({r.k for r in rows}))  # K is a count: no tick at 3.5
    fig.update_layout(
        title=_title(f"{metric_label(metric)} vs K: best chunking per method ({splitter})", approximate),
        xaxis_title="K (chunks retrieved)", yaxis_title=metric_label(metric), yaxis_range=[0, 1.02], height=360,
        **_LAYOUT,
    )
    return fig


def pooled_vs_exact_figure(rows: Sequence[Confirmation], *, metric: str = "hit") -> go.Figure:
    """Dumbbells: the pooled estimate and the exact measurement of the same setting."""
    labels = [f"{c.config.size}/{c.config.overlap} {c.method} K={c.k}" for c in rows]
    pooled = [getattr(c, f"pooled_{metric}") for c in rows]
    exact = [getattr(c, f"exact_{metric}") for c in rows]
    fig = go.Figure()
    for label, p, e in zip(labels, pooled, exact):
        fig.add_scatter(x=[p, e], y=[label, label], mode="lines", line=dict(color="#9ca3af"), showlegend=False,
                        hoverinfo="skip")
    fig.add_scatter(x=pooled, y=labels, mode="markers", name="≈ pooled (approximate)",
                    marker=dict(symbol="circle-open", size=11, color="#f59e0b"))
    fig.add_scatter(x=exact, y=labels, mode="markers", name="exact", marker=dict(size=10, color="#1d4ed8"))
    name = "hit@K" if metric == "hit" else "MRR@K"
    fig.update_layout(title=f"{name}: pooled estimate vs exact measurement", xaxis_title=name,
                      xaxis_range=[-0.02, 1.02], height=max(240, 40 + 28 * len(rows)), **_LAYOUT)
    return fig


def boundary_figure(chunks_a: Sequence[Chunk], chunks_b: Sequence[Chunk], diff: BoundaryDiff, *,
                    labels: tuple[str, str] = ("A", "B")) -> go.Figure:
    """Chunk spans of A and B on one character axis, with the boundaries only one side has marked."""
    fig = go.Figure()
    for lane, (label, chunks) in enumerate(zip(labels, (chunks_a, chunks_b))):
        for c in chunks:
            y = lane + (0.18 if c.index % 2 else -0.18)  # alternate so overlapping chunks stay visible
            fig.add_scatter(x=[c.start, c.end], y=[y, y], mode="lines", line=dict(width=9, color="#93c5fd" if lane == 0 else "#86efac"),
                            showlegend=False, hovertemplate=f"{label} chunk {c.index}: chars {c.start:,}-{c.end:,}<extra></extra>")
    for lane, (label, only) in enumerate(zip(labels, (diff.only_a, diff.only_b))):
        fig.add_scatter(x=list(only), y=[lane] * len(only), mode="markers", name=f"boundary only in {label}",
                        marker=dict(symbol="line-ns-open", size=22, line=dict(width=2), color="#dc2626" if lane == 0 else "#16a34a"),
                        hovertemplate=f"only in {label}: char %{{x:,}}<extra></extra>")
    fig.add_scatter(x=list(diff.shared), y=[0.5] * len(diff.shared), mode="markers", name="shared boundary",
                    marker=dict(symbol="diamond", size=7, color="#6b7280"), hovertemplate="shared: char %{x:,}<extra></extra>")
    fig.update_layout(
        title=f"Chunk boundaries: {len(diff.only_a)} only in {labels[0]}, {len(diff.only_b)} only in {labels[1]}, "
              f"{len(diff.shared)} shared",
        xaxis_title="character offset", height=260,
        yaxis=dict(tickvals=[0, 1], ticktext=list(labels), range=[-0.6, 1.6]), **_LAYOUT,
    )
    return fig


def _hover(text: str, width: int = 70, limit: int = 420) -> str:
    short = text if len(text) <= limit else text[:limit] + " ..."
    return "<br>".join(html.escape(line) for line in textwrap.wrap(" ".join(short.split()), width))


def embedding_map(projection: Projection, chunks: Sequence[Chunk], *, retrieved: Sequence[int] = (),
                  missed: Sequence[int] = (), query: str = "") -> go.Figure:
    """Chunks coloured by document; the query, its retrieved chunks and missed relevant chunks marked."""
    pts = projection.points
    fig = go.Figure()
    by_doc: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by_doc.setdefault(c.doc, []).append(i)
    for doc, ids in by_doc.items():
        fig.add_scatter(
            x=pts[ids, 0], y=pts[ids, 1], mode="markers", name=html.escape(doc), opacity=0.55,
            marker=dict(size=7), customdata=[_hover(chunks[i].text) for i in ids],
            hovertext=[f"{html.escape(chunks[i].doc)} #{chunks[i].index}" for i in ids],
            hovertemplate="<b>%{hovertext}</b><br>%{customdata}<extra></extra>",
        )
    rank = {i: r for r, i in enumerate(retrieved, start=1)}
    if retrieved:
        ids = list(retrieved)
        fig.add_scatter(
            x=pts[ids, 0], y=pts[ids, 1], mode="markers+text", name="retrieved (top-K)",
            text=[str(rank[i]) for i in ids], textposition="top center",
            marker=dict(size=14, symbol="circle-open", line=dict(width=3), color="#1d4ed8"),
            customdata=[_hover(chunks[i].text) for i in ids],
            hovertext=[f"rank {rank[i]}: {html.escape(chunks[i].doc)} #{chunks[i].index}" for i in ids],
            hovertemplate="<b>%{hovertext}</b><br>%{customdata}<extra></extra>",
        )
    if missed:
        ids = list(missed)
        fig.add_scatter(
            x=pts[ids, 0], y=pts[ids, 1], mode="markers", name="answers it, not retrieved",
            marker=dict(size=14, symbol="x", color="#dc2626"), customdata=[_hover(chunks[i].text) for i in ids],
            hovertext=[f"missed: {html.escape(chunks[i].doc)} #{chunks[i].index}" for i in ids],
            hovertemplate="<b>%{hovertext}</b><br>%{customdata}<extra></extra>",
        )
    if len(projection.extra):
        fig.add_scatter(
            x=projection.extra[:1, 0], y=projection.extra[:1, 1], mode="markers", name="query",
            marker=dict(size=20, symbol="star", color="#f59e0b", line=dict(width=1, color="#78350f")),
            hovertext=[_hover(query)], hovertemplate="<b>query</b><br>%{hovertext}<extra></extra>",
        )
    if projection.method == "pca" and projection.explained:
        ex, ey = projection.explained[:2]
        axes = (f"PC1 ({ex:.0%} of variance)", f"PC2 ({ey:.0%} of variance)")
    else:
        axes = ("UMAP 1", "UMAP 2")
    fig.update_layout(title=f"Embedding map ({projection.method.upper()} of {len(chunks):,} chunk vectors)",
                      xaxis_title=axes[0], yaxis_title=axes[1], height=560, **_LAYOUT)
    return fig
