"""The QStudy value: construction, validation, equality, views."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qvalid import QInputError, QStudy
from qvalid.study import format_score, grid_from_counts

SCORES = np.array([[-1, 1, 0], [0, -1, 1], [1, 0, -1]])


def study(**kw) -> QStudy:
    return QStudy.from_array(SCORES, **kw)


def test_from_array_defaults_follow_qmethod():
    s = study()
    assert s.statement_ids == ("sta_1", "sta_2", "sta_3") and s.sort_ids == ("s1", "s2", "s3")
    assert dict(s.grid) == {-1: 1, 0: 1, 1: 1} and s.forced
    assert s.scores.dtype == np.int64 and not s.scores.flags.writeable
    assert s.qscores.tolist() == [-1, 0, 1]
    assert (s.n_statements, s.n_sorts) == (3, 3)
    assert s._locate is None


def test_scores_are_copied_not_shared():
    raw = SCORES.copy()
    s = QStudy.from_array(raw)
    raw[0, 0] = 99
    assert s.scores[0, 0] == -1


def test_float_and_object_scores_are_converted_when_whole():
    assert study().scores.tolist() == QStudy.from_array(SCORES.astype(float)).scores.tolist()
    obj = QStudy.from_array(np.array([["-1", " 1", "0"], ["0", "-1", "1.0"], ["1", "0", "-1"]], dtype=object))
    assert obj.scores.tolist() == SCORES.tolist()


@pytest.mark.parametrize("cell, reason", [(np.nan, "missing value"), ("", "missing value"),
                                          ("NA", "missing value ('NA')"), ("x", "value 'x' is not a number"),
                                          (0.5, "value 0.5 is not an integer grid score")])
def test_bad_cells_are_named(cell, reason):
    raw = SCORES.astype(object)
    raw[2, 1] = cell
    with pytest.raises(QInputError) as err:
        QStudy.from_array(raw)
    assert str(err.value) == f"sort s2, statement sta_3: {reason}"


def test_equality_is_by_value_and_ignores_the_source():
    a, b = study(name="x", source="a.csv"), study(name="x", source="b.csv")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != study(name="y")
    assert a != study(name="x", statement_texts=["p", "q", "r"])
    assert a != QStudy.from_array(SCORES[:, ::-1], name="x")
    assert a != study(name="x", sort_ids=["a", "b", "c"])
    assert a != study(name="x", grid={-1: 1, 0: 1, 1: 1}, forced=False)
    assert a != "not a study"


def test_replace_validates_again():
    s = study()
    assert s.replace(name="n").name == "n"
    with pytest.raises(QInputError, match="duplicate sort id 's1'"):
        s.replace(sort_ids=("s1", "s1", "s3"))


def test_frame_round_trip_with_texts():
    s = study(statement_texts=["a", "b", "c"])
    frame = s.to_frame()
    assert list(frame.columns) == ["s1", "s2", "s3"] and list(frame.index) == ["sta_1", "sta_2", "sta_3"]
    frame["wording"] = ["a", "b", "c"]
    assert QStudy.from_frame(frame, text_column="wording") == s


def test_from_frame_reports_missing_cells():
    frame = pd.DataFrame({"A": [1.0, np.nan, -1.0], "B": [-1, 0, 1]}, index=["x", "y", "z"])
    with pytest.raises(QInputError) as err:
        QStudy.from_frame(frame, source="f.csv")
    assert str(err.value) == "f.csv: sort A, statement y: missing value"


@pytest.mark.parametrize("scores, ids, message", [
    (np.zeros((0, 3)), {}, "a study needs at least 2 statements, found 0"),
    (np.zeros((3, 0)), {}, "a study needs at least 2 Q-sorts, found 0"),
    (SCORES[:, :1], {}, "a study needs at least 2 Q-sorts, found 1"),
    (SCORES, {"sort_ids": ["a", " ", "c"]}, "empty sort id at position 2"),
    (SCORES, {"statement_ids": ["a", "b", ""]}, "empty statement id at position 3"),
    (SCORES, {"statement_ids": ["a", "b", "a"]}, "duplicate statement id 'a' (also at position 1)"),
])
def test_size_and_id_checks(scores, ids, message):
    with pytest.raises(QInputError) as err:
        QStudy.from_array(scores, **ids)
    assert str(err.value) == message


def test_empty_study_errors_do_not_crash_on_the_grid():
    with pytest.raises(QInputError, match="at least 2 statements, found 0"):
        QStudy(np.zeros((0, 2), dtype=int), (), ("a", "b"), source="e.csv")


def test_grid_errors_carry_the_file():
    with pytest.raises(QInputError) as err:
        study(grid={-1: 1, 0: 1, 1: -1}, source="s.csv")
    assert str(err.value) == "s.csv: grid entry 1: -1 is not a whole score with a non-negative cell count"


def test_locator_puts_lines_into_errors():
    lines = {0: 10, 1: 20, 2: 30}
    with pytest.raises(QInputError) as err:
        QStudy(np.array([[-1, 1, 1], [0, -1, 1], [1, 0, -1]]), ("a", "b", "c"), ("A", "B", "C"), source="x.csv",
               grid={-1: 1, 0: 1, 1: 1}, _locate=lambda sort, st: None if sort is None else lines[sort])
    assert str(err.value) == ("x.csv:30: sort C: score 0 has 0 statements, grid allows 1; score +1 has 2 statements, "
                              "grid allows 1 (declare the study non-forced if this is intended)")


def test_non_forced_needs_a_grid_and_keeps_its_scores_in_range():
    with pytest.raises(QInputError, match="non-forced study needs its notional distribution"):
        QStudy.from_array(SCORES, forced=False)
    free = QStudy.from_array(np.array([[1, 1], [1, -1], [-1, 0]]), grid={-1: 1, 0: 1, 1: 1}, forced=False)
    assert not free.forced and "non-forced" in repr(free)


def test_grid_helpers():
    assert grid_from_counts({1: 2, -1: 2, 0: 0}) == {-1: 2, 1: 2}
    assert list(grid_from_counts({3: 1, -2: 1})) == [-2, 3]
    with pytest.raises(QInputError, match="the grid has no cells"):
        grid_from_counts({0: 0})
    assert [format_score(v) for v in (-4, 0, 4)] == ["-4", "0", "+4"]
