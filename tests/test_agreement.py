"""qvalid.checks.agreement.compare_solutions and ``qvalid compare``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from qvalid import analyze
from qvalid.checks.agreement import Solution, compare_solutions
from qvalid.cli import main
from qvalid.io import read_csv
from qvalid.core.rounding import kround

from _shared import shared_path

LIPSET = Path(__file__).resolve().parents[1] / "reference/data/lipset/lipset.csv"


def _shuffled(sol: Solution, perm, signs, name="b") -> Solution:
    s = np.array(signs, dtype=float)
    return Solution(name, sol.sort_ids[::-1], sol.statement_ids[::-1], sol.loadings[::-1][:, perm] * s,
                    sol.flags[::-1][:, perm], sol.zscores[::-1][:, perm] * s, sol.factor_arrays[::-1][:, perm] * s)


def test_a_permuted_reflected_reordered_copy_has_no_differences():
    a = Solution.from_result(analyze(read_csv(LIPSET), 3), "a")
    d = compare_solutions(a, _shuffled(a, [2, 0, 1], [1, -1, 1]))
    # b's f3 is a's f1, b's f1 is -(a's f2), b's f2 is a's f3
    assert d.permutation == [1, 2, 0] and d.signs == [-1, 1, 1]
    assert d.flag_changes == [] and d.array_moves == []
    assert d.max_loading_diff["value"] == 0 and d.max_zscore_diff["value"] == 0


def test_changed_flag_and_moved_cell_are_named():
    a = Solution.from_result(analyze(read_csv(LIPSET), 3), "a")
    flags = a.flags.copy()
    flags[0] = [True, True, False]
    arrays = a.factor_arrays.copy()
    j = int(np.flatnonzero(arrays[:, 1] != arrays[0, 1])[0])
    arrays[[0, j], 1] = arrays[[j, 0], 1]  # two statements with different values swap them on f2
    z = a.zscores.copy()
    z[7, 2] += 0.25
    b = Solution("b", a.sort_ids, a.statement_ids, a.loadings, flags, z, arrays)
    d = compare_solutions(a, b)
    assert [c["sort"] for c in d.flag_changes] == ["US1"] and d.flag_changes[0]["b"] == ["f1", "f2"]
    moved = {(m["statement"], m["factor"]) for m in d.array_moves}
    assert moved == {("sta_1", "f2"), (f"sta_{j + 1}", "f2")}
    assert d.max_zscore_diff == {"value": pytest.approx(0.25), "statement": "sta_8", "factor": "f3"}
    assert "sorts whose flags change: 1" in d.to_text()
    json.loads(d.to_json())


def test_different_studies_refused():
    a = Solution.from_result(analyze(read_csv(LIPSET), 2), "a")
    b = Solution("b", ("x",) + a.sort_ids[1:], a.statement_ids, a.loadings, a.flags, a.zscores, a.factor_arrays)
    with pytest.raises(ValueError, match="not solutions of the same study"):
        compare_solutions(a, b)


def test_cli_compare_flavours_and_workbook(capsys):
    book = shared_path("data/polycrisis_kade/KADE_results_Polycrisis_4_factors.xlsx")
    study = shared_path("data/polycrisis_kade/Polycrisis_Q_data_for_KADE.xlsx")
    assert main(["compare", "kade", str(book), "--workbook-flags", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["flag_changes"] == [] and out["array_moves"] == [] and out["max_zscore_diff"]["value"] == 0
    assert main(["compare", "qmethod", str(book), "--workbook-flags", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["array_moves"] == [] and 1e-3 < out["max_zscore_diff"]["value"] < 1e-2  # measured 5.9e-3
    assert main(["compare", "qmethod", "kade", "--study", str(study), "-k", "2"]) == 0
    assert "factor matching" in capsys.readouterr().out
    assert main(["compare", "qmethod", "kade"]) == 2
    assert "give --study" in capsys.readouterr().err


def test_cli_analyze_kade_workbook_input(capsys):
    study = shared_path("data/polycrisis_kade/Polycrisis_Q_data_for_KADE.xlsx")
    assert main(["analyze", str(study), "-k", "3", "--flavor", "kade", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["options"]["varimax_rule"] == "kaiser" and len(out["sort_ids"]) == 50


def test_cli_analyze_reproduces_a_kade_workbook(capsys, tmp_path):
    # the "done when": qvalid analyze STUDY.xlsx --flavor kade --flags FLAGS reproduces a KADE workbook
    from qvalid.io import read_kade_workbook

    book = shared_path("data/polycrisis_kade/KADE_results_Polycrisis_4_factors.xlsx")
    study = shared_path("data/polycrisis_kade/Polycrisis_Q_data_for_KADE.xlsx")
    wb = read_kade_workbook(book)
    assert main(["analyze", str(study), "-k", "4", "--flavor", "kade", "--flags", str(book), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["options"]["manual_flags"] is True
    np.testing.assert_array_equal(out["flags"], wb.flags)
    np.testing.assert_array_equal(out["zscores"], wb.zscores)
    np.testing.assert_array_equal(out["factor_arrays"], wb.factor_arrays)
    np.testing.assert_array_equal(kround(out["loadings"], 4), wb.loadings)  # KADE prints half away from zero
    # the same flags as a CSV table of X marks
    rows = ["sort,f1,f2,f3,f4"] + [sid + "," + ",".join("X" if f else "" for f in row)
                                   for sid, row in zip(wb.study.sort_ids, wb.flags)]
    (tmp_path / "flags.csv").write_text("\n".join(rows) + "\n")
    assert main(["analyze", str(study), "-k", "4", "--flavor", "kade", "--flags", str(tmp_path / "flags.csv"),
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["zscores"] == out["zscores"]
