"""The report's stability section from a real qvalid.bootstrap result, and ``qvalid report --bootstrap``."""

import json
import re
from pathlib import Path

import numpy as np
import pytest

from qvalid import analyze
from qvalid import bootstrap
from qvalid.cli import main
from qvalid.datasets import load_lipset
from qvalid.io import read_study
from qvalid.report import Report
from qvalid.report.stability import summary

from test_report import check_offline, check_page

ROOT = Path(__file__).resolve().parents[1]
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"


@pytest.fixture(scope="module")
def boot():
    study = load_lipset()  # with the statement texts
    return analyze(study, 3), bootstrap(study, 3, 60, seed=3)


@pytest.fixture(scope="module")
def page(boot):
    res, b = boot
    return Report(res, bootstrap=b).to_html()


def _pct(x):
    return f"{100 * x:.0f}%"


def test_stability_section_has_a_calibrated_verdict_per_factor(boot, page):
    res, b = boot
    c = check_page(page)
    check_offline(page, c)
    sec = page.split('<section id="stability">')[1].split("</section>")[0]
    rows = re.findall(r'<table class="stab">.*?<tbody>(.*?)</tbody>', sec, re.S)[0].split("</tr>")[:-1]
    assert len(rows) == 3
    for row, (name, f) in zip(rows, b.factors.iterrows()):
        assert f"<td>{name}</td>" in row and f'">{f.verdict}</span>' in row
        assert f"{_pct(f.p_095)} ({_pct(f.p_095_low)}\u2013{_pct(f.p_095_high)})" in row
        assert f"{_pct(f.p_085)} ({_pct(f.p_085_low)}\u2013{_pct(f.p_085_high)})" in row
        assert f"{_pct(f.share_095)} / {_pct(f.share_085)}" in row
    # the top card counts the words
    card = page.split('<nav class="toc">')[0]
    words = list(b.factors.verdict)
    for w in ("stable", "fairly stable", "unstable"):
        if w in words:
            assert f"{words.count(w)} {w}" in card
    # three bootstrap figures besides the report's own z-score figure, all embedded
    assert len(c.imgs) == len(check_page(Report(res).to_html()).imgs) + 3


def test_flag_frequencies_are_the_parametric_bootstraps(boot, page):
    res, b = boot
    table = re.search(r'<table class="boot-loadings">(.*?)</table>', page, re.S).group(1)
    freq = b.wide("loadings", "flag_freq")
    lo = b.wide("loadings", "ci_low")
    for sid in res.sort_ids:
        row = re.search(rf"<tr><td>{sid}</td>(.*?)</tr>", table).group(1)
        shown = [int(x) for x in re.findall(r"(\d+)%</td>", row)]
        assert shown == [round(100 * v) for v in freq.loc[sid]]
        assert f"[{lo.loc[sid].iloc[0]:.2f}".replace("-", "\u2212") in row or f"[{lo.loc[sid].iloc[0]:.2f}" in row
    assert "a new participant like this one" in page


def test_json_carries_the_bootstrap(boot):
    res, b = boot
    d = json.loads(Report(res, bootstrap=b).to_json())
    assert d["bootstrap"] == json.loads(b.to_json()) and d["bootstrap"]["schema"] == 2
    assert d["report"]["glance"]["bootstrap"]["verdicts"] == dict(zip(b.factors.index, b.factors["verdict_text"]))


def test_cli_bootstrap_is_seeded(tmp_path, capsys):
    outs = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.html"
        assert main(["report", str(LIPSET), "-k", "2", "--bootstrap", "40", "--no-factors", "--seed", "5",
                     "--no-crosscheck", "--out", str(out), "--json", str(tmp_path / f"{name}.json")]) == 0
        outs.append(out)
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("stability: ") and "; 40 resamples" in lines[1]
    a, b_ = (p.read_text(encoding="utf-8") for p in outs)
    assert a.replace("a.html", "X").replace("a.json", "X") == b_.replace("b.html", "X").replace("b.json", "X")
    d = json.loads((tmp_path / "a.json").read_text())
    assert d["bootstrap"]["bootstrap"]["n_resamples"] == 40 and d["bootstrap"]["bootstrap"]["seed"] == 5
    again = bootstrap(read_study(LIPSET), 2, 40, seed=5)
    assert np.isclose(d["bootstrap"]["factors"][0]["p_085"], again.factors["p_085"].iloc[0])
    assert np.isclose(d["bootstrap"]["zscores"][0]["ci_low"], again.zscores["ci_low"].iloc[0])


def test_q_grid_tooltips_say_how_often_a_statement_keeps_its_place(boot, page):
    res, b = boot
    kept = b.wide("zscores", "keep_within1")
    sid = res.statement_ids[0]
    for j, f in enumerate(res.factors):
        share = f"{100 * kept.loc[sid, f]:.0f}%"
        assert re.search(rf'title="{sid}: [^"]*\(z = {res.zscores[0, j]:.2f}; within one column in {share} of '
                         r'(resamples|samples)\)"', page)


def test_plain_verdict_box(boot, page):
    res, b = boot
    sec = page.split('<section id="stability">')[1]
    box = re.search(r'<div class="verdict (ok|warn|bad)">(.*?)</div>', sec, re.S)
    words = list(b.factors.verdict)
    k = len(words)
    assert box.group(1) == ("ok" if words.count("stable") == k else "bad" if words.count("unstable") == k else "warn")
    for w, label in (("stable", "Stable"), ("fairly stable", "Fairly stable"), ("unstable", "Unstable")):
        names = [n for n, x in zip(b.factors.index, words) if x == w]
        if names:
            assert f"<strong>{label}: {', '.join(names)}</strong>" in box.group(2)
    for name, row in b.factors[b.factors.verdict == "unstable"].iterrows():
        assert f"{_pct(row.p_085)} for {name}" in box.group(2)


def test_plain_verdict_of_a_planted_stable_structure():
    """Two planted factors, 12 noisy copies each (qvalid.simulate.planted_study, noise 0.3): both stable."""
    from qvalid.simulate import planted_study

    study, _ = planted_study(40, 24, 2, noise=0.3, seed=1)
    b = bootstrap(study, 2, 60, seed=1)
    assert list(b.factors["verdict"]) == ["stable", "stable"]
    assert summary(b)["headline"] == "2 stable (of 2)"
    sec = Report(analyze(study, 2), bootstrap=b).to_html().split('<section id="stability">')[1]
    assert '<div class="verdict ok"><strong>Stable: f1, f2</strong>' in sec


def test_a_qmboots_replay_has_no_calibrated_verdict_and_says_so():
    s = load_lipset()
    b = bootstrap(s, 3, 30, seed=1, align="qindtest")
    assert b.parametric is None and not b.calibrated and list(b.factors.verdict) == ["n/a"] * 3
    assert summary(b)["headline"] == "no calibrated verdict"
    sec = Report(analyze(s, 3), bootstrap=b).to_html().split('<section id="stability">')[1]
    assert "No calibrated verdict." in sec and "resampling&#x27;s percentiles" in sec or "percentiles" in sec
