"""core.projection (PCA via SVD, optional UMAP) and the embedding-map figure."""
from __future__ import annotations

import numpy as np
import pytest

from core.chunking import Chunk
from core.projection import available_methods, project


def test_pca_recovers_the_main_axis_and_places_extras_by_the_same_map():
    rng = np.random.default_rng(0)
    # Spread mostly along dimension 3, a little along dimension 7, almost none elsewhere.
    x = np.zeros((50, 10))
    x[:, 3] = rng.normal(0, 10, 50)
    x[:, 7] = rng.normal(0, 2, 50)
    x += rng.normal(0, 0.01, x.shape)
    p = project(x, extra=x[:2])
    assert p.points.shape == (50, 2) and p.extra.shape == (2, 2)
    assert p.method == "pca"
    np.testing.assert_allclose(p.extra, p.points[:2], atol=1e-9)
    assert p.explained[0] > 0.9 > p.explained[1] > 0.01
    # The first axis is (almost exactly) dimension 3, the second dimension 7.
    assert abs(np.corrcoef(p.points[:, 0], x[:, 3])[0, 1]) > 0.99
    assert abs(np.corrcoef(p.points[:, 1], x[:, 7])[0, 1]) > 0.99


def test_pca_is_deterministic_in_sign():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(30, 8))
    a, b = project(x), project(x.copy())
    np.testing.assert_allclose(a.points, b.points)
    flipped = project(-x)  # the same cloud mirrored draws the same way round after sign fixing
    np.testing.assert_allclose(np.abs(flipped.points), np.abs(a.points), atol=1e-9)


def test_tiny_inputs_do_not_crash():
    one = project(np.ones((1, 4)))
    assert one.points.shape == (1, 2) and np.allclose(one.points, 0)
    two = project(np.array([[1.0, 0, 0], [0, 1.0, 0]]))
    assert two.points.shape == (2, 2)


def test_bad_input_is_a_clear_error():
    with pytest.raises(ValueError, match="no vectors"):
        project(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="2-D"):
        project(np.zeros(4))
    with pytest.raises(ValueError, match="dimensions"):
        project(np.zeros((3, 4)), extra=np.zeros((1, 5)))
    with pytest.raises(ValueError, match="Unknown projection"):
        project(np.zeros((3, 4)), method="tsne")


def test_umap_is_only_offered_when_importable():
    methods = available_methods()
    assert methods[0] == "pca"
    try:
        import umap  # noqa: F401
    except ImportError:
        assert methods == ("pca",)
        with pytest.raises(ValueError, match="umap-learn"):
            project(np.random.default_rng(0).normal(size=(20, 5)), method="umap")
    else:
        assert "umap" in methods


def test_embedding_map_marks_query_retrieved_and_missed_and_escapes_text():
    from core.plots.evaluation import embedding_map

    chunks = [Chunk(doc="a.md" if i < 3 else "b.md", index=i, start=0, end=10, text=f"<script>x{i}</script>", n_tokens=3)
              for i in range(6)]
    p = project(np.random.default_rng(2).normal(size=(6, 4)), extra=np.zeros((1, 4)))
    fig = embedding_map(p, chunks, retrieved=[4, 1], missed=[2], query="q <b>")
    names = [t.name for t in fig.data]
    assert names == ["a.md", "b.md", "retrieved (top-K)", "answers it, not retrieved", "query"]
    retrieved = fig.data[2]
    assert list(retrieved.text) == ["1", "2"]
    assert retrieved.x[0] == pytest.approx(p.points[4, 0])
    hover = " ".join(str(h) for t in fig.data for h in (t.customdata if t.customdata is not None else []))
    assert "<script>" not in hover and "&lt;script&gt;" in hover
    assert "<b>" not in fig.data[-1].hovertext[0]
