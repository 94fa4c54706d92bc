"""The Evaluate page's per-question table, as Streamlit sends it to the browser (no model)."""
from __future__ import annotations

from streamlit import dataframe_util
from streamlit.elements.lib.pandas_styler_utils import marshall_styler
from streamlit.proto.ArrowData_pb2 import ArrowData

from core.evaluation import Question, QuestionResult, Scores
from ui.evaluate.current import NO_RANK, question_table


def result(first: int | None, best: int | None, relevant: frozenset[int]) -> QuestionResult:
    q = Question("How long?", ("30 days",), "faq.md")
    return QuestionResult(q, Scores(1.0 if first else 0.0, 0.0, 0.0, 0.0), (0, 1), relevant, first, best)


def shown(styler) -> list[dict]:
    """The cells' display values: what the user reads in the browser."""
    proto = ArrowData()
    marshall_styler(proto, styler, "test")
    return dataframe_util.convert_arrow_bytes_to_pandas_df(proto.styler.display_values).to_dict("records")


def test_rank_cells_show_a_dash_where_they_do_not_apply():
    results = [result(2, None, frozenset({1})),  # hit
               result(None, 14, frozenset({7})),  # miss, found lower down
               result(None, None, frozenset({3})),  # miss that the full ranking does not reach
               result(None, None, frozenset())]  # no chunk holds the answer
    styler = question_table(results, 5)
    rows = shown(styler)
    best = [r["best rank (full ranking)"] for r in rows]
    top = [r["rank in top-5"] for r in rows]
    assert best == [NO_RANK, "14", NO_RANK, NO_RANK]
    assert top == ["2", NO_RANK, NO_RANK, NO_RANK]
    assert not any(v in {"None", "<NA>", "nan"} for r in rows for v in r.values())
    # Underneath the columns stay numbers, so sorting by rank sorts numerically.
    assert styler.data["best rank (full ranking)"].dtype == "Int64"
    assert [r["result"] for r in rows] == ["hit", "miss", "miss", "no chunk holds it"]
