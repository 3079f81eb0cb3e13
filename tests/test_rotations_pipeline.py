"""Rotations by name and judgmental steps through analyze(), the JSON and text report, the CLI, the bootstrap,
verify's "orthogonal rotation of the data" claim and the live cross-check (marked ``r``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid import QInputError, analyze, bootstrap
from qvalid.checks.verify import AGREES, CONTRADICTS, ROUNDING, rotation_claim, verify
from qvalid.cli import main
from qvalid.core.judgmental import PairStep, apply_steps, invert_steps
from qvalid.core.procrustes import procrustes
from qvalid.core.psych_rotate import principal_rotate
from qvalid.core.rounding import kround
from qvalid.datasets import load_lipset
from qvalid.io.published import PublishedTable, read_table
from qvalid.io.rotations import format_steps, parse_steps, read_rotation_steps, read_target
from qvalid.options import OPTION_INFO, ROTATIONS, resolve_options

sys.path.insert(0, str(Path(__file__).parent))
from _r import LIPSET_CSV, require_r  # noqa: E402

LIPSET = str(LIPSET_CSV)


@pytest.fixture(scope="module")
def lipset():
    return load_lipset()


# ------------------------------------------------------------------------------------------ options
def test_rotation_names_are_rs_and_case_sensitive():
    info = OPTION_INFO["rotation"]
    assert info.case_sensitive and info.r == "argument" and info.r_name == "rotation"
    assert resolve_options(rotation="Varimax").rotation == "Varimax"  # GPArotation's, not stats::varimax
    assert resolve_options(rotation="varimax").rotation == "varimax"
    assert resolve_options(rotation="geominq").rotation == "geominQ"  # unique ignoring case
    with pytest.raises(QInputError, match="not one of"):
        resolve_options(rotation="PROMAX")  # ambiguous: promax (stats) or Promax (psych)
    with pytest.raises(QInputError, match="not one of"):
        resolve_options(rotation="infomaxT")  # psych would silently use none
    assert set(ROTATIONS) >= {"quartimax", "equamax", "promax", "oblimin", "simplimax", "geominT", "geominQ",
                              "bentlerT", "bentlerQ", "cluster", "targetT", "targetQ"}
    with pytest.raises(QInputError, match="rotation_delta"):
        resolve_options(rotation_delta=0)


# ------------------------------------------------------------------------------------------ analyze
@pytest.mark.parametrize("rotation", [r for r in ROTATIONS if not r.lower().startswith("target")
                                      and r not in ("bifactor", "biquartimin")])
def test_analyze_with_every_rotation(lipset, rotation):
    res = analyze(lipset, 3, rotation=rotation)
    oblique = rotation in ("promax", "Promax", "cluster", "oblimin", "quartimin", "simplimax", "geominQ", "bentlerQ")
    assert (res.factor_correlations is not None) == oblique
    np.testing.assert_allclose(res.unrotated_loadings @ res.rotation_matrix, res.loadings, rtol=0, atol=1e-12)
    if oblique:
        np.testing.assert_allclose(res.loadings @ res.factor_correlations @ res.loadings.T,
                                   res.unrotated_loadings @ res.unrotated_loadings.T, rtol=0, atol=1e-10)
        assert "(oblique)" in res.rotation_text
    d = json.loads(res.to_json())
    assert d["options"]["rotation"] == rotation and d["diagnostics"]["rotation"]["name"] == rotation
    assert (d["factor_correlations"] is not None) == oblique
    assert f"Rotation: {rotation}" in res.summary()
    assert ("Factor correlations" in res.summary()) == oblique


def test_pca_rotation_is_psych_principal_on_qvalids_components(lipset):
    """analyze() = extraction + principal_rotate (psych's switch, sort and sign), bit for bit."""
    for rotation in ("oblimin", "quartimax", "promax", "cluster"):
        res = analyze(lipset, 4, rotation=rotation)
        ref = principal_rotate(res.unrotated_loadings, rotation)
        np.testing.assert_array_equal(res.loadings, ref.loadings)


def test_rotation_arguments_reach_the_kernel(lipset):
    a = analyze(lipset, 3, rotation="oblimin")
    b = analyze(lipset, 3, rotation="oblimin", rotation_gam=0.5)
    assert np.abs(a.loadings - b.loadings).max() > 1e-3
    c = analyze(lipset, 3, rotation="oblimin", gpa_max_iter=2)
    assert c.varimax_iterations == 2 and not c.converged and "rotation-not-converged" in c.warning_codes
    g1, g2 = analyze(lipset, 3, rotation="geominQ"), analyze(lipset, 3, rotation="geominQ", rotation_delta=0.5)
    assert np.abs(g1.loadings - g2.loadings).max() > 1e-3
    s1, s2 = analyze(lipset, 3, rotation="simplimax"), analyze(lipset, 3, rotation="simplimax", rotation_k=15)
    assert np.abs(s1.loadings - s2.loadings).max() > 1e-3
    p1, p2 = analyze(lipset, 3, rotation="promax"), analyze(lipset, 3, rotation="promax", promax_m=2)
    assert np.abs(p1.loadings - p2.loadings).max() > 1e-3
    n1, n2 = analyze(lipset, 3, rotation="quartimax"), analyze(lipset, 3, rotation="quartimax", gpa_normalize=True)
    assert np.abs(n1.loadings - n2.loadings).max() > 1e-4
    e1, e2 = analyze(lipset, 3, rotation="Varimax"), analyze(lipset, 3, rotation="Varimax", gpa_eps=1e-9)
    assert e2.varimax_iterations > e1.varimax_iterations


def test_centroid_rotation_goes_beyond_qmethod_without_sort(lipset):
    res = analyze(lipset, 3, extraction="centroid", rotation="oblimin")
    assert "rotation-beyond-qmethod" in res.warning_codes
    ref = principal_rotate(res.unrotated_loadings, "oblimin", tidy=False)
    np.testing.assert_array_equal(res.loadings, ref.loadings)
    assert "rotation-beyond-qmethod" not in analyze(lipset, 3, extraction="centroid").warning_codes


def test_target_rotation(lipset):
    vm = analyze(lipset, 3)
    target = np.where(np.abs(vm.loadings) > 0.5, np.sign(vm.loadings) * 0.8, 0.0)
    res = analyze(lipset, 3, rotation="targetT", target=target)
    assert res.rotation_target is not None and res.to_dict()["diagnostics"]["rotation"]["target"] is not None
    with pytest.raises(QInputError, match="needs target loadings"):
        analyze(lipset, 3, rotation="targetQ")
    with pytest.raises(QInputError, match="only used by targetT/targetQ"):
        analyze(lipset, 3, rotation="oblimin", target=target)
    with pytest.raises(QInputError, match="shape"):
        analyze(lipset, 3, rotation="targetT", target=target[:, :2])


def test_cluster_without_sorts_on_a_factor_is_one_line():
    from qvalid.simulate import planted_study

    study = planted_study(30, 12, 2, noise=0.5, seed=0)[0]  # two viewpoints, four factors
    with pytest.raises(QInputError, match="cluster failed: .*no Q-sort has its largest loading on factor\\(s\\) 4"):
        analyze(study, 4, rotation="cluster")


# ------------------------------------------------------------------------------------------ judgmental steps
def test_steps_after_varimax_and_their_record(lipset):
    steps = [PairStep(0, 1, 12.5), PairStep(2, 1, -4.0)]
    vm = analyze(lipset, 3)
    res = analyze(lipset, 3, then=steps)
    np.testing.assert_allclose(res.loadings, apply_steps(vm.loadings, steps)[0], rtol=0, atol=1e-15)
    assert res.rotation_text == "varimax, then f1-f2 +12.5 deg, f2-f3 -4 deg"
    assert f"Rotation: {res.rotation_text}" in res.summary()
    d = res.to_dict()["diagnostics"]["rotation"]
    assert d["steps"] == [{"factors": [1, 2], "degrees": 12.5}, {"factors": [2, 3], "degrees": -4.0}]
    # replay from the JSON record gives the same numbers
    again = analyze(lipset, 3, then=[PairStep(s["factors"][0] - 1, s["factors"][1] - 1, s["degrees"])
                                     for s in d["steps"]])
    np.testing.assert_array_equal(again.loadings, res.loadings)
    # the steps and their inverse give back varimax
    back = analyze(lipset, 3, then=steps + invert_steps(steps))
    np.testing.assert_allclose(back.loadings, vm.loadings, rtol=0, atol=1e-14)
    np.testing.assert_allclose(res.unrotated_loadings @ res.rotation_matrix, res.loadings, rtol=0, atol=1e-12)


def test_steps_after_an_oblique_rotation_turn_phi_too(lipset):
    res = analyze(lipset, 3, rotation="oblimin", then=[PairStep(0, 2, 20.0)])
    np.testing.assert_allclose(res.loadings @ res.factor_correlations @ res.loadings.T,
                               res.unrotated_loadings @ res.unrotated_loadings.T, rtol=0, atol=1e-10)


def test_kade_flavour_rounds_each_step_as_kade(lipset):
    steps = [PairStep(0, 1, 10.0), PairStep(1, 2, -3.5)]
    base = analyze(lipset, 3, flavor="kade")
    res = analyze(lipset, 3, flavor="kade", then=steps)
    want, _ = apply_steps(base.loadings, steps, kade_round=True)
    np.testing.assert_array_equal(res.loadings, want)
    assert np.array_equal(res.loadings, kround(res.loadings, 5))
    exact = analyze(lipset, 3, flavor="kade", steps_rule="exact", then=steps)
    assert 0 < np.abs(exact.loadings - res.loadings).max() <= 1e-5


def test_bad_steps(lipset):
    with pytest.raises(QInputError, match="names factor 4, but the solution has 3"):
        analyze(lipset, 3, then=[PairStep(0, 3, 5.0)])
    with pytest.raises(QInputError, match="not a PairStep"):
        analyze(lipset, 3, then=[(0, 1, 5.0)])


def test_rotation_files(tmp_path):
    p = tmp_path / "rot.txt"
    p.write_text("# after varimax\nf1 f2 +12.5\n\nF3, 2, -4 deg   # counter-clockwise\n1-3 7.25\n")
    steps = read_rotation_steps(p)
    assert [(s.pair, s.degrees) for s in steps] == [((0, 1), 12.5), ((1, 2), -4.0), ((0, 2), 7.25)]
    assert parse_steps(format_steps(steps)) == steps
    for bad, msg in (("f1 f1 3", "two different factors"), ("f1 f2", "two factors and an angle"),
                     ("g1 f2 3", "not a factor"), ("f1 f2 x", "not an angle"), ("f0 f2 3", "not a factor"),
                     ("f1 f2 nan", "not a finite")):
        with pytest.raises(QInputError, match=msg) as err:
            parse_steps(f"f1 f2 1\n{bad}\n", source="r.txt")
        assert str(err.value).startswith("r.txt:2: ")


def test_target_files(tmp_path):
    p = tmp_path / "target.csv"
    p.write_text("sort,f1,f2\nA,0.7,\nB,NA,0.5\nC,0,0\n")
    t = read_target(p, ["C", "B", "A"], 2)
    np.testing.assert_array_equal(np.isnan(t), [[False, False], [True, False], [False, True]])
    assert t[2, 0] == 0.7 and t[1, 1] == 0.5
    for text, msg in (("sort,f1\nA,1\n", "f1..f2"), ("sort,f1,f2\nA,1,2\n", "no row for 2"),
                      ("sort,f1,f2\nA,1,2\nB,1,2\nC,1,2\nD,1,2\n", "no such Q-sort"),
                      ("sort,f1,f2\nA,x,2\nB,1,2\nC,1,2\n", "neither a number"),
                      ("sort,f1,f2\nA,,\nB,,\nC,,\n", "unspecified"), (",,\nA,1,2\n", "empty target file")):
        p.write_text(text)
        with pytest.raises(QInputError, match=msg):
            read_target(p, ["A", "B", "C"], 2)


# ------------------------------------------------------------------------------------------ CLI
def test_cli_rotation_then_and_json(tmp_path, capsys):
    rot = tmp_path / "rotations.txt"
    rot.write_text("f1 f2 +12.5\nf2 f3 -4\n")
    assert main(["analyze", LIPSET, "-k", "3", "--rotation", "varimax", "--then", str(rot)]) == 0
    out = capsys.readouterr().out
    assert "Rotation: varimax, then f1-f2 +12.5 deg, f2-f3 -4 deg" in out
    assert main(["analyze", LIPSET, "-k", "3", "--rotation", "oblimin", "--rotation-gam", "0.5", "--format",
                 "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["options"]["rotation"] == "oblimin" and d["options"]["rotation_gam"] == 0.5
    assert len(d["factor_correlations"]) == 3
    assert main(["analyze", LIPSET, "-k", "3", "--rotation", "geominq"]) == 0  # unique ignoring case
    capsys.readouterr()
    # argparse: a name psych would silently take as "none" (a usage error: main() returns 2, one line)
    assert main(["analyze", LIPSET, "-k", "3", "--rotation", "infomaxT"]) == 2
    assert "invalid choice: 'infomaxT'" in capsys.readouterr().err
    rot.write_text("f1 f4 3\n")
    assert main(["analyze", LIPSET, "-k", "3", "--then", str(rot)]) == 2
    err = capsys.readouterr().err.strip()
    assert "names factor 4" in err and len(err.splitlines()) == 1


def test_cli_target(tmp_path, capsys, lipset):
    vm = analyze(lipset, 2)
    tgt = tmp_path / "t.csv"
    tgt.write_text("sort,f1,f2\n" + "".join(f"{s},{0.8 if a > 0.5 else ''},{0.8 if b > 0.5 else 0}\n"
                                           for s, (a, b) in zip(lipset.sort_ids, vm.loadings)))
    assert main(["analyze", LIPSET, "-k", "2", "--rotation", "targetQ", "--target", str(tgt), "--format",
                 "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["diagnostics"]["rotation"]["target"][0][1] in (0.8, 0.0)


# ------------------------------------------------------------------------------------------ bootstrap
def _resample(study, idx):
    from qvalid import QStudy

    return QStudy.from_array(study.scores[:, idx], list(study.statement_ids),
                             [f"{study.sort_ids[j]}#{i}" for i, j in enumerate(idx)], grid=dict(study.grid))


@pytest.mark.parametrize("rotation", ["oblimin", "quartimax", "promax", "geominQ"])
def test_bootstrap_replicates_are_analyze_on_the_resample(lipset, rotation):
    b = bootstrap(lipset, 3, 12, seed=4, rotation=rotation)
    assert b.counts["failed"] == 0
    for r in range(0, 12, 3):
        idx = b.raw["indices"][r]
        res = analyze(_resample(lipset, idx), 3, rotation=rotation)
        loa = res.loadings[:, b.raw["perm"][r]] * b.raw["signs"][r]
        first = {}
        for pos, j in enumerate(idx):
            first.setdefault(int(j), pos)
        for s, pos in first.items():
            np.testing.assert_allclose(b.raw["loadings"][r, s], loa[pos], rtol=0, atol=1e-10)


def test_bootstrap_with_steps_aligns_onto_the_hand_rotated_solution(lipset):
    steps = [PairStep(0, 1, 25.0)]
    with pytest.raises(QInputError, match="align='procrustes'"):
        bootstrap(lipset, 3, 5, then=steps)
    b = bootstrap(lipset, 3, 30, seed=2, then=steps, align="procrustes")
    assert b.full.rotation_steps == tuple(steps)
    # the replicates are turned onto the hand-rotated loadings: congruences as high as without the steps
    plain = bootstrap(lipset, 3, 30, seed=2, align="procrustes")
    assert abs(np.nanmean(b.raw["congruence"]) - np.nanmean(plain.raw["congruence"])) < 0.02
    with pytest.raises(QInputError, match="rotation='targetT'"):
        bootstrap(lipset, 3, 5, rotation="targetT", target=np.zeros((9, 3)))


def test_number_of_factors_with_a_rotation(lipset):
    from qvalid import number_of_factors

    fr = number_of_factors(lipset, 3, n_runs=20, seed=1, rotation="oblimin")
    assert "pca + oblimin" in fr.summary()
    plain = number_of_factors(lipset, 3, n_runs=20, seed=1)
    assert fr.to_dict() != plain.to_dict()  # the rotated solutions differ (defining sorts, solution columns)


# ------------------------------------------------------------------------------------------ verify
def _published(values, ids, d):
    return PublishedTable(ids=tuple(ids), factors=tuple(f"f{j + 1}" for j in range(values.shape[1])),
                          values=np.round(values, d), decimals=np.full(values.shape, d), marks=None, source="t")


def test_rotation_claim_verdicts(lipset):
    a = analyze(lipset, 3, rotation="none").unrotated_loadings
    vm = analyze(lipset, 3)
    claim, der = rotation_claim(_published(vm.loadings, lipset.sort_ids, 4), a)
    assert claim.verdict in (AGREES, ROUNDING) and der["max_residual"] < 1e-4
    np.testing.assert_allclose(der["matrix"], procrustes(a, vm.loadings).matrix, atol=1e-3)
    ob = analyze(lipset, 3, rotation="oblimin")
    assert rotation_claim(_published(ob.loadings, lipset.sort_ids, 2), a)[0].verdict == CONTRADICTS
    typo = np.round(vm.loadings, 2)
    typo[4, 1] += 0.05
    assert rotation_claim(_published(typo, lipset.sort_ids, 2), a)[0].verdict == CONTRADICTS


def test_rotation_claim_calibration_ci_sized():
    """scripts/verify_rotation_calibration.py on a CI-sized sample: a true rotation is never contradicted, every
    false scenario is caught (docs/verify.md: 0 % and >= 99 % at n = 1000)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
    import verify_rotation_calibration as cal

    res = cal.run(25, seed=5)
    assert res["rotation"][CONTRADICTS] == 0
    for sc in ("centroid", "typo", "swapped rows"):
        assert res[sc][CONTRADICTS] == 1.0, sc
    assert res["oblique"][CONTRADICTS] >= 0.9 and res["k+1 factors"][CONTRADICTS] >= 0.9


def _kade_workbook(path, study, k, steps):
    """A KADE-style result sheet ("Factor Loadings": the sort name under "Nm", Factor j and its unnamed flag column
    holding "Flagged", 4 decimals) of the
    KADE flavour's centroid + Kaiser varimax, then hand-rotated by ``steps`` with KADE's rounding: made here from
    lipset (no third-party workbook is committed)."""
    import openpyxl  # Debian python3-openpyxl, installed by scripts/setup.sh: a failure, not a skip, without it
    res = analyze(study, k, flavor="kade", extraction="centroid", then=steps)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Factor Loadings"
    ws.append(["Nm"] + [x for j in range(k) for x in (f"Factor {j + 1}", None)])
    for i, sid in enumerate(study.sort_ids):
        ws.append([sid] + [x for j in range(k) for x in (round(float(res.loadings[i, j]), 4),
                                                                  "Flagged" if res.flags[i, j] else "")])
    wb.save(path)
    return res


def test_verify_a_hand_rotated_kade_workbook(tmp_path, capsys, lipset):
    steps = [PairStep(0, 1, 8.0), PairStep(1, 2, -5.0)]
    wb = tmp_path / "kade.xlsx"
    res = _kade_workbook(wb, lipset, 3, steps)
    args = ["verify", str(wb), "--sheet", "Factor Loadings", "--decimals", "4", "--n-statements", "33", "--data",
            LIPSET, "--data-extraction", "centroid", "--data-flavor", "kade", "--format", "json"]
    assert main(args) == 0
    d = json.loads(capsys.readouterr().out)
    claim = next(c for c in d["claims"] if c["claim"].startswith("an orthogonal rotation"))
    assert claim["verdict"] in (AGREES, ROUNDING)
    der = d["derived"]["rotation_of_data"]
    np.testing.assert_allclose(der["matrix"], res.rotation_matrix, atol=5e-4)
    # against the (unrotated) PCA factors instead, the same table is no rotation: contradicts, exit 1
    assert main(args[:-6] + ["--data", LIPSET, "--format", "json"]) == 1
    capsys.readouterr()
    # the hand steps themselves, from the varimax table (what a reader of KADE's output would check)
    base = analyze(lipset, 3, flavor="kade", extraction="centroid")
    table = read_table(wb, sheet="Factor Loadings")
    table = PublishedTable(table.ids, table.factors, table.values, np.full(table.values.shape, 4), None, "kade")
    claim, der = rotation_claim(table, base.loadings, of="varimax")
    assert claim.verdict in (AGREES, ROUNDING)
    # KADE rounded after each step: the angles come back to within a few thousandths of a degree
    assert [s.split()[0] for s in der["steps"]] == ["f1-f2", "f2-f3"]
    assert [float(s.split()[1]) for s in der["steps"]] == pytest.approx([8.0, -5.0], abs=0.01)


def test_verify_data_errors(lipset):
    t = _published(np.zeros((2, 2)) + 0.5, ["US1", "XX"], 2)
    with pytest.raises(QInputError, match="Q-sort\\(s\\) the data has not: XX"):
        verify(t, n_statements=33, data=lipset)


# ------------------------------------------------------------------------------------------ live R
@pytest.mark.r
@pytest.mark.parametrize("rotation", [r for r in ROTATIONS if not r.lower().startswith("target")])
def test_crosscheck_every_rotation_live(lipset, rotation):
    """qvalid against live R qmethod (qmethod(..., rotation = name)) on every output, k = 3 and 4."""
    require_r()
    from qvalid.checks.crosscheck import crosscheck

    for k in (3, 4):
        diff, rrun = crosscheck(lipset, k, rotation=rotation)
        assert diff.ok, (rotation, k, diff.summary_line())
        assert f'rotation = "{rotation}"' in rrun.call


@pytest.mark.r
def test_crosscheck_rotations_live(lipset):
    require_r()
    from qvalid.checks.crosscheck import crosscheck

    for rotation, kw in (("oblimin", {"rotation_gam": 0.5}), ("geominT", {"rotation_delta": 0.1}),
                         ("simplimax", {"rotation_k": 12}), ("quartimax", {"gpa_normalize": True}),
                         ("bentlerQ", {"gpa_eps": 1e-7}), ("cluster", {}), ("varimin", {})):
        diff, rrun = crosscheck(lipset, 3, rotation=rotation, **kw)
        assert diff.ok, (rotation, diff.summary_line())
        for name, v in kw.items():  # the argument reached R through qmethod's ...
            r_name = OPTION_INFO[name].r_name
            assert f"{r_name} = " in rrun.call, rrun.call
    vm = analyze(lipset, 3)
    target = np.where(np.abs(vm.loadings) > 0.5, np.sign(vm.loadings) * 0.8, np.nan)
    diff, rrun = crosscheck(lipset, 3, rotation="targetQ", target=target)
    assert diff.ok and "Target = <9 x 3 matrix>" in rrun.call
    with pytest.raises(QInputError, match="no judgmental rotation"):
        crosscheck(lipset, 3, then=[PairStep(0, 1, 3.0)])
    with pytest.raises(QInputError, match="only by varimax or none"):
        crosscheck(lipset, 3, extraction="centroid", rotation="oblimin")
