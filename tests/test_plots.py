"""The plotly figures: what a projector shows must be readable, and no label may sit under a bar.

The browser tour (tests/e2e/test_tour.py) checks the drawn charts; these check the figures'
settings that make them so, without a browser.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from core.chunking import Chunk
from core.plots import chunks as chunk_plots
from core.plots import evaluation, finetune
from core.projection import Projection
from core.sweep import SweepRow


def _row(size: int, overlap: int, hit: float, mrr: float = 0.5, k: int = 5, method: str = "hybrid") -> SweepRow:
    return SweepRow(splitter="recursive", unit="tokens", size=size, overlap=overlap, k=k, method=method,
                    mode="pooled", hit=hit, mrr=mrr, recall=hit, ndcg=hit, chunks=10, index_s=0.1, query_ms=1.0)


def _heatmap(rows, metric: str = "hit"):
    return evaluation.sweep_heatmap(rows, metric=metric, k=5, method="hybrid", splitter="recursive", approximate=True)


def _best_cell(fig) -> tuple[str, str]:
    """(size, overlap) of the cell the outline surrounds."""
    (shape,) = fig.layout.shapes
    trace = fig.data[0]
    col, row = (shape.x0 + shape.x1) / 2, (shape.y0 + shape.y1) / 2
    assert shape.x1 - shape.x0 == shape.y1 - shape.y0 == 1  # exactly one cell
    return trace.y[int(row)], trace.x[int(col)]


ROWS = [_row(100, 0, 0.90), _row(100, 25, 0.96, mrr=0.70), _row(200, 0, 0.93), _row(200, 25, 0.96, mrr=0.81),
        _row(200, 25, 0.20, k=3), _row(300, 0, 0.10, method="dense")]  # other K and method: not shown


def test_heatmap_colours_span_the_values_shown():
    fig = _heatmap(ROWS)
    trace = fig.data[0]
    assert (trace.zmin, trace.zmax) == (0.90, 0.96)  # not 0-1, where 0.90 and 0.96 look alike
    assert trace.colorscale[0][1] != "#ffffff"  # the lowest cell is still coloured


def test_heatmap_marks_the_best_cell_by_the_apps_ranking():
    fig = _heatmap(ROWS)
    # 100/25 and 200/25 tie on hit@5; rank_key breaks the tie by MRR, so 200/25 is the best.
    assert _best_cell(fig) == ("200", "25")
    text = {(y, x): fig.data[0].text[i][j] for i, y in enumerate(fig.data[0].y) for j, x in enumerate(fig.data[0].x)}
    assert text[("200", "25")].startswith("★") and text[("100", "25")] == "0.96"
    assert sum("★" in t for t in text.values()) == 1


def test_heatmap_best_follows_the_metric():
    fig = _heatmap(ROWS, metric="mrr")
    assert _best_cell(fig) == ("200", "25")
    fig = _heatmap([_row(100, 0, 0.5, mrr=0.9), _row(200, 0, 0.6, mrr=0.1)], metric="mrr")
    assert _best_cell(fig) == ("100", "0")


def test_heatmap_of_one_value_or_a_missing_cell():
    fig = _heatmap([_row(100, 0, 0.8)])
    trace = fig.data[0]
    assert trace.zmin < 0.8 < trace.zmax  # a band around the one value, not an empty range
    fig = _heatmap([_row(100, 0, 0.8), _row(200, 25, 0.9)])
    z = fig.data[0].z
    assert math.isnan(z[0][1]) and math.isnan(z[1][0])  # 100/25 and 200/0 were not run
    assert (fig.data[0].zmin, fig.data[0].zmax) == (0.8, 0.9)
    assert _best_cell(fig) == ("200", "25")


def test_heatmap_with_nothing_to_show_draws_no_outline():
    fig = _heatmap([_row(100, 0, 0.8, k=3)])
    assert not fig.layout.shapes


def _legend_clear_of_the_x_title(fig) -> None:
    """A legend under the plot (paper y < 0) is where plotly draws the x-axis title."""
    legend = fig.layout.legend
    assert legend.y is not None and legend.y >= 0, f"legend at y={legend.y}: under the plot, on the x-axis title"


def test_embedding_map_legend_is_beside_the_plot():
    chunks = [Chunk(doc=f"doc{i % 3}.md", index=i, start=0, end=10, text="some text", n_tokens=3) for i in range(9)]
    proj = Projection(points=np.arange(18, dtype=float).reshape(9, 2), extra=np.array([[1.0, 2.0]]), method="pca",
                      explained=(0.1, 0.05))
    fig = evaluation.embedding_map(proj, chunks, retrieved=[0, 1], missed=[2], query="q")
    _legend_clear_of_the_x_title(fig)
    assert fig.layout.legend.x > 1 and fig.layout.legend.orientation == "v"


@pytest.mark.parametrize("make", [
    lambda: evaluation.metric_vs_k(ROWS, metric="hit", splitter="recursive", approximate=False),
    lambda: _heatmap(ROWS),
])
def test_evaluation_figures_keep_the_legend_off_the_x_title(make):
    _legend_clear_of_the_x_title(make())


def test_metric_vs_k_ticks_only_the_ks():
    fig = evaluation.metric_vs_k(ROWS, metric="hit", splitter="recursive", approximate=False)
    assert list(fig.layout.xaxis.tickvals) == [3, 5]


def _line_named_in_the_legend(fig, name_part: str) -> None:
    """The line is explained by a legend entry, not by an annotation a bar can cover."""
    assert not fig.layout.annotations
    assert len(fig.layout.shapes) == 1 and fig.layout.shapes[0].type == "line"
    names = [t.name for t in fig.data]
    assert any(name_part in (n or "") for n in names), names
    assert fig.layout.legend.y >= 1  # above the plot, clear of the bars and of the x-axis title


def test_readiness_median_is_named_in_the_legend():
    fig = finetune.length_histogram([100, 110, 120, 130], flagged=[10])
    _line_named_in_the_legend(fig, "median: 110 tokens")
    assert fig.layout.shapes[0].x0 == 110


def test_readiness_histogram_of_nothing_has_no_median():
    fig = finetune.length_histogram([])
    assert not fig.layout.shapes and not fig.layout.annotations


def test_chunk_length_window_is_named_in_the_legend():
    from core import model

    chunks = [Chunk(doc="a.md", index=i, start=0, end=10, text="x", n_tokens=n) for i, n in enumerate((50, 200, 300))]
    fig = chunk_plots.length_histogram(chunks)
    _line_named_in_the_legend(fig, "model window")
    assert fig.layout.shapes[0].x0 == model.TEXT_WINDOW
