"""qvalid.report and ``qvalid report``: a well-formed, self-contained page with every section, figures embedded,
no network requests, numbers that are the result's, the live cross-check (and a plain note without R)."""

import base64
import html
import json
import re
import shlex
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from qvalid import analyze
from qvalid.cli import main, make_parser
from qvalid.errors import QInputError
from qvalid.io import attach_statement_texts, read_statement_texts, read_study
from qvalid.report import REPORT_JSON_KEYS, SECTIONS, Report, cross_check, distinguishing_mask
from qvalid.results import JSON_KEYS

from _r import require_r

ROOT = Path(__file__).resolve().parents[1]
LIPSET = ROOT / "reference" / "data" / "lipset" / "lipset.csv"
LIPSET_TEXTS = ROOT / "reference" / "data" / "lipset" / "lipset_statements.csv"
NAV_SYNTH = ROOT / "reference" / "golden" / "inputs" / "nav_synth.csv"  # 36 x 25, ids 1..36 as NAV's statements
NAV_TEXTS = ROOT / "reference" / "data" / "nav_aap_2023" / "statements.csv"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Checker(HTMLParser):
    """Strict-ish well-formedness: every non-void element closed in order; collects ids, imgs, links, scripts."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.ids, self.imgs, self.urls, self.tags = [], [], [], [], [], []
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "img":
            self.imgs.append(a)
        for key in ("src", "href", "action", "srcset", "poster", "data"):
            if key in a:
                self.urls.append((tag, key, a[key] or ""))
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"end tag of void element </{tag}> at {self.getpos()}")
        elif not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"</{tag}> at {self.getpos()} closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()


def check_page(html: str) -> _Checker:
    c = _Checker()
    c.feed(html)
    c.close()
    assert c.doctype and c.doctype.lower() == "doctype html"
    assert not c.errors, c.errors[:5]
    assert not c.stack, f"unclosed: {c.stack[:5]}"
    assert len(c.ids) == len(set(c.ids)), "duplicate element ids"
    return c


def check_offline(html: str, c: _Checker) -> None:
    """No request can leave the page: no scripts, stylesheets, frames, external or relative resources."""
    assert not {"script", "link", "iframe", "object", "embed", "base", "frame"} & set(c.tags)
    for tag, key, url in c.urls:
        if tag == "a" and key == "href":
            assert url.startswith("#") or re.match(r"https?://", url), url  # in-page anchors or citation links
        else:
            assert url.startswith("data:"), (tag, key, url[:60])
    style = "".join(re.findall(r"<style>(.*?)</style>", html, re.S))
    assert "@import" not in style and "url(" not in style and "@font-face" not in style
    assert not re.search(r'(src|srcset)\s*=\s*"https?:', html)


@pytest.fixture(scope="module")
def nav():
    study = attach_statement_texts(read_study(NAV_SYNTH), read_statement_texts(NAV_TEXTS))
    return analyze(study, 4, extraction="centroid", threshold=0.42)


@pytest.fixture(scope="module")
def nav_html(nav):
    return Report(nav, crosscheck_note="not requested in this test", command="qvalid report x -k 4").to_html()


def test_page_is_well_formed_self_contained_and_has_every_section(nav_html):
    c = check_page(nav_html)
    check_offline(nav_html, c)
    always = [sid for sid, _, _, when in SECTIONS if when is None]
    assert set(always) <= set(c.ids)
    assert "number-of-factors" not in c.ids  # shown only with a FactorsResult
    assert len(always) >= 9
    for sid in always:  # each section is linked from the table of contents
        assert f'href="#{sid}"' in nav_html


def test_figures_are_embedded_pngs(nav_html):
    c = check_page(nav_html)
    assert c.imgs, "no figure"
    for a in c.imgs:
        assert a["src"].startswith("data:image/png;base64,") and a.get("alt")
        png = base64.b64decode(a["src"].split(",", 1)[1], validate=True)
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_same_inputs_same_bytes(nav, nav_html):
    again = Report(nav, crosscheck_note="not requested in this test", command="qvalid report x -k 4").to_html()
    assert again == nav_html


def test_loadings_table_shows_exactly_the_flags(nav, nav_html):
    table = re.search(r'<table class="loadings">(.*?)</table>', nav_html, re.S).group(1)
    assert table.count('class="n flag') == int(nav.flags.sum()) == 21
    for i, sid in enumerate(nav.sort_ids):
        row = re.search(rf"<tr><td>{sid}</td>(.*?)</tr>", table).group(1)
        cells = re.findall(r'<td class="([^"]*)">([^<]*)</td>', row)[: nav.nfactors]
        assert [("flag" in cls) for cls, _ in cells] == nav.flags[i].tolist()
        shown = [float(v.replace("\u2212", "-")) for _, v in cells]
        np.testing.assert_allclose(shown, nav.loadings[i], atol=0.005)


def test_each_q_grid_holds_every_statement_once_in_its_column(nav, nav_html):
    grids = re.findall(r'<div class="qgrid">(<h3>Factor (\d+).*?)(?=<div class="qgrid|</section>)', nav_html, re.S)
    assert [int(n) for _, n in grids] == [1, 2, 3, 4]
    for body, n in grids:
        j = int(n) - 1
        cols = re.split(r'<div class="col"><div class="head">', body)[1:]
        assert len(cols) == len(nav.study.grid)
        seen = []
        for col, score in zip(cols, nav.study.grid):
            assert col.startswith(f"{score:+d}".replace("-", "\u2212") if score else "0")
            ids = re.findall(r'<span class="id">([^<]+)', col)
            assert len(ids) == nav.study.grid[score]  # the NAV grid: 1,2,3,4,5,6,5,4,3,2,1
            for sid in ids:
                assert nav.factor_arrays[nav.statement_ids.index(sid), j] == score
            seen += ids
        assert sorted(seen) == sorted(nav.statement_ids)


def test_distinguishing_mask_agrees_with_qmethods_labels(nav):
    """qmethod's qdc labels (identical to R's, see the cross-check) imply the mask: "Distinguishes all" -> every
    factor, "Distinguishes fN only" -> exactly fN, "Consensus" -> none."""
    mask = distinguishing_mask(nav)
    labels = [str(x).strip() for x in nav.distinguishing.labels]
    assert {"Consensus", "Distinguishes f1 only"} <= set(labels)
    for i, lab in enumerate(labels):
        if lab == "Consensus":
            assert not mask[i].any()
        elif lab == "Distinguishes all":
            assert mask[i].all()
        elif m := re.fullmatch(r"Distinguishes f(\d) only", lab):
            assert mask[i].tolist() == [j == int(m.group(1)) - 1 for j in range(4)]


def test_distinguishing_mask_by_hand():
    """Three factors, SED 0.3 everywhere: 1.96 * 0.3 = 0.588 is the p < .05 bar."""
    from qvalid.core.characteristics import distinguishing

    z = np.array([[1.0, 0.0, 0.1],     # f1 differs from f2 (1.0) and f3 (0.9): distinguishes f1 only
                  [0.0, 0.1, 0.2],     # nothing differs: consensus
                  [1.0, 0.0, -1.0],    # every pair differs: all three
                  [1.0, 0.5, 0.0]])    # f1-f3 only: neither factor differs from *both* others
    d = distinguishing(z, np.full((3, 3), 0.3))

    class R:
        distinguishing, nfactors = d, 3
        study = type("S", (), {"n_statements": 4})()

    assert distinguishing_mask(R).tolist() == [[True, False, False], [False, False, False], [True, True, True],
                                               [False, False, False]]


def test_statement_texts_appear_with_their_statements(nav, nav_html):
    texts = read_statement_texts(NAV_TEXTS)
    assert texts["9"].startswith("Where users' needs conflict")
    # the consensus statements' table lists their wordings
    cons = [s for s, m in zip(nav.statement_ids, nav.distinguishing.consensus) if m]
    block = nav_html.split("Consensus statements:")[1]
    for sid in cons:
        assert f"<td>{sid}</td>" in block and html.escape(texts[sid].strip()) in block


def test_json_is_the_analyze_contract_plus_the_report_parts(nav):
    d = json.loads(Report(nav, crosscheck_note="R missing").to_json())
    assert tuple(d) == JSON_KEYS + REPORT_JSON_KEYS
    assert json.dumps({k: d[k] for k in JSON_KEYS}) == nav.to_json()
    assert d["bootstrap"] is None and d["number_of_factors"] is None
    assert d["crosscheck"] == {"available": False, "reason": "R missing"}
    assert d["report"]["versions"]["qvalid"] == d["qvalid_version"]


def test_without_r_the_report_says_so_and_has_everything_else(nav, monkeypatch):
    import qvalid.r.session as rb

    def no_r():
        raise rb.RNotAvailable("rpy2 cannot be imported: ImportError: test")

    monkeypatch.setattr(rb, "require_r", no_r)
    diff, note = cross_check(nav)
    assert diff is None and "could not be used on this machine: rpy2 cannot be imported" in note
    html = Report(nav, crosscheck_note=note).to_html()
    c = check_page(html)
    assert {sid for sid, _, _, when in SECTIONS if when is None} <= set(c.ids)
    xc = html.split('<section id="crosscheck">')[1].split("</section>")[0]
    assert "Not cross-checked." in xc and "rpy2 cannot be imported" in xc
    assert "not run" in html.split('<nav class="toc">')[0]  # the cross-check card at the top


def test_option_without_r_counterpart_is_not_cross_checked():
    res = analyze(read_study(LIPSET), 2, av_rel_coef=0.7)
    diff, note = cross_check(res)  # decided before R is asked
    assert diff is None and "av_rel_coef=0.7" in note


def test_live_cross_check_with_a_published_threshold(nav):
    require_r()
    diff, note = cross_check(nav)
    assert diff.ok and "manual flags" in note and "|a| >= 0.42" in note
    assert diff["loadings"].max_abs < 1e-10 and diff["factor_arrays"].n_bad == 0
    html = Report(nav, crosscheck=diff, crosscheck_note=note).to_html()
    assert "gives the same results" in html and "1.8.4" in html.split('id="reproduce"')[1]


# ---------------------------------------------------------------------- command line
def test_cli_writes_report_and_json(tmp_path, capsys):
    out, js = tmp_path / "sub" / "r.html", tmp_path / "r.json"
    argv = ["report", str(LIPSET), "-k", "3", "--statements", str(LIPSET_TEXTS), "--no-crosscheck", *QUICK,
            "--out", str(out), "--json", str(js)]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines() == ["cross-check: not run: switched off (--no-crosscheck).",
                                                     f"wrote {out} and {js}"]
    html = out.read_text(encoding="utf-8")
    check_offline(html, check_page(html))
    d = json.loads(js.read_text())
    assert d["crosscheck"]["available"] is False and "--no-crosscheck" in d["crosscheck"]["reason"]
    cmd = d["report"]["command"]
    assert shlex.split(cmd)[:2] == ["qvalid", "report"] and cmd in html
    assert sorted(out.parent.iterdir()) == [out]  # written atomically: no temporary file left


#: The report's sections that cost time (stability, number of factors) off, for tests about something else.
QUICK = ("--no-bootstrap", "--no-factors")


def test_cli_report_includes_stability_and_number_of_factors_by_default(tmp_path, capsys, monkeypatch):
    """Stability is the main job's point: without options the report bootstraps and weighs the number of factors
    (the defaults made small here); --no-bootstrap / --no-factors switch them off."""
    import qvalid.cli.report as cr

    monkeypatch.setattr(cr, "BOOTSTRAP_RESAMPLES", 30)
    monkeypatch.setattr(cr, "FACTOR_RUNS", 20)
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    assert main(["report", str(LIPSET), "-k", "2", "--no-crosscheck", "--out", str(out), "--json", str(js)]) == 0
    d = json.loads(js.read_text())
    assert d["bootstrap"]["bootstrap"]["n_resamples"] == 30 and d["number_of_factors"] is not None
    assert "--bootstrap" not in d["report"]["command"] and "--no-" not in d["report"]["command"].replace(
        "--no-crosscheck", "")
    ids = check_page(out.read_text(encoding="utf-8")).ids
    assert "stability" in ids and "number-of-factors" in ids
    assert main(["report", str(LIPSET), "-k", "2", "--no-crosscheck", *QUICK, "--out", str(out), "--json",
                 str(js)]) == 0
    d = json.loads(js.read_text())
    assert d["bootstrap"] is None and d["number_of_factors"] is None
    assert "--no-bootstrap --no-factors" in d["report"]["command"]


def test_cli_command_line_reproduces_the_arguments():
    from qvalid.cli.report import command_line

    argv = ["report", "my study.csv", "-k", "4", "--extraction", "centroid", "--threshold", "0.42",
            "--no-majority", "--bootstrap", "200", "--seed", "7", "--out", "o/r.html"]
    grid = make_parser().parse_args(["report", "s.csv", "-k", "2", "--grid=-2:1,2,1", "--spc", "1e-07"])
    assert command_line(grid) == "qvalid report s.csv --grid=-2:1,2,1 -k 2 --spc 1e-07"
    args = make_parser().parse_args(argv)
    cmd = command_line(args)
    assert cmd == ("qvalid report 'my study.csv' -k 4 --extraction centroid --threshold 0.42 --no-majority "
                   "--bootstrap 200 --seed 7 --out o/r.html")
    assert vars(make_parser().parse_args(shlex.split(cmd)[1:])) == vars(args)
    off = make_parser().parse_args(["report", "s.csv", "-k", "2", "--no-bootstrap", "--no-factors"])
    assert off.bootstrap == 0 and off.factors == 0
    assert command_line(off) == "qvalid report s.csv -k 2 --no-bootstrap --no-factors"
    assert vars(make_parser().parse_args(shlex.split(command_line(off))[1:])) == vars(off)


def test_cli_bad_statements_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "texts.csv"
    bad.write_text('"","text"\n"sta_1","only one"\n')
    assert main(["report", str(LIPSET), "-k", "2", "--statements", str(bad), "--no-crosscheck", *QUICK,
                 "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no text for statement(s) sta_2" in err
    assert not (tmp_path / "r.html").exists()


def test_cli_refuses_to_overwrite_the_study(tmp_path, capsys):
    study = tmp_path / "s.csv"
    study.write_bytes(LIPSET.read_bytes())
    assert main(["report", str(study), "-k", "2", "--no-crosscheck", *QUICK, "--out", str(study)]) == 2
    assert "refusing to overwrite" in capsys.readouterr().err and study.read_bytes() == LIPSET.read_bytes()


# ---------------------------------------------------------------------- statement wordings
def test_read_statement_texts_shapes(tmp_path):
    lip = read_statement_texts(LIPSET_TEXTS)
    assert len(lip) == 33 and lip["sta_2"].endswith("others. ")  # qmethod's lipset$ltext, trailing blank kept
    nav = read_statement_texts(NAV_TEXTS)  # id,text_no,text_en,seed_line: English preferred
    assert nav["1"].startswith("The number of users I follow up")
    assert read_statement_texts(NAV_TEXTS, column="text_no")["1"].startswith("Antall brukere")
    p = tmp_path / "t.csv"
    p.write_text("id,text\n1,a\n1,b\n")
    with pytest.raises(QInputError, match=r"t.csv:3: duplicate statement id '1'"):
        read_statement_texts(p)
    p.write_text("id,text\n1,a\n2,\n")
    with pytest.raises(QInputError, match=r"t.csv:3: statement 2: no text in column 'text'"):
        read_statement_texts(p)
    with pytest.raises(QInputError, match="no column 'txt'"):
        read_statement_texts(NAV_TEXTS, column="txt")


def test_number_of_factors_section_only_with_a_factors_result(nav):
    """The optional section renders a factors result's suggestions, criteria table and scree figure (a minimal
    stand-in with the attributes of qvalid.factors.FactorsResult that the report reads)."""
    import pandas as pd
    from matplotlib.figure import Figure

    class Factors:
        suggestions = {"parallel analysis (grid null)": 3, "Kaiser-Guttman": 5}
        criteria = pd.DataFrame({"eigenvalue": [4.1, 2.2, 1.6], "kaiser": [True, True, False]},
                                index=pd.Index([1, 2, 3], name="k"))

        def scree_figure(self):
            fig = Figure()
            fig.add_subplot().plot([1, 2, 3], [4.1, 2.2, 1.6])
            return fig

        def to_dict(self):
            return {"suggestions": self.suggestions}

    rep = Report(nav, factors=Factors())
    html_ = rep.to_html()
    c = check_page(html_)
    assert "number-of-factors" in c.ids and len(c.imgs) == len(check_page(Report(nav).to_html()).imgs) + 1
    sec = html_.split('id="number-of-factors"')[1].split("</section>")[0]
    assert "parallel analysis (grid null)" in sec and '<td class="n">4.100</td>' in sec and ">no<" in sec
    assert "0 of 2 criteria count exactly 4 factors; the counts range from 3 to 5." in sec
    assert rep.to_dict()["number_of_factors"] == {"suggestions": Factors.suggestions}


@pytest.mark.parametrize("k, extraction", [(1, "pca"), (4, "centroid")])
def test_one_factor_and_a_factor_without_flags_still_render(k, extraction):
    """k = 1 has no distinguishing statements; lipset's 4-factor centroid solution has a factor without flags
    (no z-scores, no array): the page says so and stays well formed."""
    res = analyze(read_study(LIPSET), k, extraction=extraction)
    page = Report(res).to_html()
    c = check_page(page)
    check_offline(page, c)
    assert {sid for sid, _, _, when in SECTIONS if when is None} <= set(c.ids)
    if k == 1:
        assert res.distinguishing is None and "Fewer than two factors have defining Q-sorts" in page
    else:
        assert res.flags.sum(axis=0).tolist() == [2, 3, 2, 0]
        assert "No Q-sort is flagged on this factor, so it has no scores and no array." in page


def test_report_sits_on_top():
    """Importing the report loads neither R nor matplotlib; no module below it (anything but qvalid/report and
    qvalid/cli) imports it (../shared/docs/architecture.md)."""
    import subprocess
    import sys

    code = ("import sys, qvalid.report, qvalid.cli.report\n"
            "bad = [m for m in ('rpy2', 'matplotlib') if m in sys.modules]\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
    pkg = ROOT / "qvalid"
    importers = [p.relative_to(pkg).as_posix() for p in pkg.rglob("*.py")
                 if re.search(r"^\s*(from|import)\s+(qvalid\.report|\.+report)\b", p.read_text(encoding="utf-8"), re.M)
                 and p.parent.name not in ("report", "cli")]
    assert importers == []


def test_cli_manual_flags_file(tmp_path, capsys):
    flags = tmp_path / "flags.csv"
    flags.write_text("sort,f1,f2\nUS1,X,\nUS2,X,\nJP5,,X\nCA6,,X\nFR9,X,\nUS3,,\nUS4,,\nUK7,,\nUS8,,\n")
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    assert main(["report", str(LIPSET), "-k", "2", "--flags", str(flags), "--no-crosscheck", *QUICK, "--out", str(out),
                 "--json", str(js)]) == 0
    d = json.loads(js.read_text())
    on = {sid: row for sid, row in zip(d["sort_ids"], d["flags"]) if any(row)}
    assert on == {"US1": [True, False], "US2": [True, False], "JP5": [False, True], "CA6": [False, True],
                  "FR9": [True, False]}
    assert d["options"]["manual_flags"] is True and str(flags) in d["report"]["inputs"]
    assert "set by hand (manual flags)" in out.read_text(encoding="utf-8")
    assert f"--flags {flags}" in d["report"]["command"]


def test_cli_format_json(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["report", str(LIPSET), "-k", "2", "--no-crosscheck", *QUICK, "--out", str(out), "--format",
                 "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["html"] == str(out) and d["json"] is None and d["bootstrap"] is None
    assert d["crosscheck"]["headline"] == "not run" and d["command"].endswith("--format json")


def test_the_demo_job_on_the_bundled_study(tmp_path, capsys):
    """What `make demo` runs, with a small bootstrap: the bundled synthetic NAV-calibrated study (texts in its own
    column), four centroid factors at |a| >= 0.42 with strict centroid ties, and the live cross-check."""
    require_r()
    study = ROOT / "reference" / "data" / "nav_synth" / "nav_synth.csv"
    out, js = tmp_path / "report.html", tmp_path / "report.json"
    assert main(["report", str(study), "-k", "4", "--extraction", "centroid", "--centroid-ties", "strict",
                 "--threshold", "0.42", "--bootstrap", "50", "--no-factors", "--seed", "1", "--out", str(out), "--json",
                 str(js)]) == 0
    text = capsys.readouterr().out
    assert text.startswith("cross-check: AGREE: all 20 compared outputs within tolerance")
    page = out.read_text(encoding="utf-8")
    c = check_page(page)
    check_offline(page, c)
    assert {sid for sid, _, _, when in SECTIONS if when is None} <= set(c.ids)
    assert len(c.imgs) == 4  # z-scores, congruence, loading and z-score intervals
    d = json.loads(js.read_text())
    assert d["crosscheck"]["ok"] and "manual flags" in d["crosscheck"]["note"]
    assert any("centroid_ties='strict'" in n for n in d["crosscheck"]["notes"])
    assert d["bootstrap"]["bootstrap"]["n_resamples"] == 50 and len(d["bootstrap"]["factors"]) == 4
    assert d["statement_texts"][0].startswith("The number of users I follow up")
    assert "<td>extraction=&#x27;centroid&#x27;, centroid_ties=&#x27;strict&#x27;, threshold=0.42</td>" in page


def test_cli_number_of_factors_section(tmp_path, capsys):
    from qvalid.factors import number_of_factors

    study = ROOT / "reference" / "data" / "nav_synth" / "nav_synth.csv"
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    opts = ["--extraction", "centroid", "--centroid-ties", "strict", "--threshold", "0.42"]
    assert main(["report", str(study), "-k", "4", *opts, "--factors", "40", "--no-bootstrap", "--seed", "2",
                 "--no-crosscheck",
                 "--out", str(out), "--json", str(js)]) == 0
    page = out.read_text(encoding="utf-8")
    c = check_page(page)
    assert "number-of-factors" in c.ids and len(c.imgs) == 2  # z-scores and the scree plot
    expected = number_of_factors(read_study(study), nfactors=4, n_runs=40, seed=2, extraction="centroid",
                                 centroid_ties="strict", threshold=0.42)
    assert json.loads(js.read_text())["number_of_factors"]["suggestions"] == expected.suggestions
    sec = page.split('id="number-of-factors"')[1].split("</section>")[0]
    n4 = sum(v == 4 for v in expected.suggestions.values())
    assert f"{n4} of {len(expected.suggestions)} criteria count exactly 4 factors" in sec
    assert sec.count('<td class="n hl">4</td>') == n4


def test_cli_without_r_writes_the_report_and_says_why(tmp_path, capsys, monkeypatch):
    import qvalid.r.session as rb

    def no_r():
        raise rb.RNotAvailable("R package(s) qmethod not installed")

    monkeypatch.setattr(rb, "require_r", no_r)
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    assert main(["report", str(LIPSET), "-k", "3", *QUICK, "--out", str(out), "--json", str(js)]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("cross-check: not run: R qmethod could not be used on this machine: R package(s) qmethod")
    d = json.loads(js.read_text())
    assert d["crosscheck"]["available"] is False and "R package(s) qmethod not installed" in d["crosscheck"]["reason"]
    page = out.read_text(encoding="utf-8")
    assert {sid for sid, _, _, when in SECTIONS if when is None} <= set(check_page(page).ids)
