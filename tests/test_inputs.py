"""The files researchers actually have (issue 21): .xls workbooks, HTMLQ/FlashQ exports, easy-htmlq and EQ Web Sort
JSON and CSV, Ken-Q/KADE Q-sort tables with numeric participant ids; sniffing by content, --format-in, --id-column,
--statements-column, unused input columns reported, one line and exit 2 for what cannot be read.

The fixtures in tests/fixtures are this project's own small studies, written in each tool's layout
(tests/fixtures/README.md).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from qvalid import QInputError, analyze
from qvalid.io import (FORMATS, read_csv, read_eqws_csv, read_htmlq, read_sort_json, read_study, read_xlsx,
                       sniff_format)

sys.path.insert(0, str(Path(__file__).parent))
from _cli import one_line, run_cli as run  # noqa: E402
from _r import r_session  # noqa: E402,F401

FIX = Path(__file__).parent / "fixtures"
UIDS = ["2071129", "2071051", "2071201", "2071377", "2071402", "2071455"]
#: The six Q-sorts of the web fixtures (statements s1..s8, grid -2..+2 with 1,2,2,2,1 cells), one per row.
SORTS = np.array([[1, -2, 0, -1, 1, 0, 2, -1], [-1, 0, 2, 0, -1, 1, 1, -2], [1, 0, -1, -2, -1, 2, 0, 1],
                  [1, -1, -1, 0, 0, -2, 1, 2], [1, -1, 0, -2, -1, 0, 1, 2], [2, -2, 1, 0, 1, -1, 0, -1]])


def test_the_fixtures_hold_the_same_six_sorts():
    rows = [r.split(";") for r in (FIX / "htmlq_export.csv").read_text().splitlines()[1:]]
    np.testing.assert_array_equal(np.array([[int(v) for v in r[3:11]] for r in rows]), SORTS)


# ---------------------------------------------------------------------------------------------- sniffing
@pytest.mark.parametrize("name, fmt", [("htmlq_export.csv", "htmlq"), ("easyhtmlq.json", "json"),
                                       ("eqws_sheets.csv", "eqws"), ("eqws_netlify.csv", "eqws"),
                                       ("kenq_sorts.csv", "csv"), ("study_sorts.xls", "spreadsheet"),
                                       ("loadings_flag.xls", "spreadsheet")])
def test_formats_are_sniffed_by_content(name, fmt, tmp_path):
    assert sniff_format(FIX / name) == fmt
    renamed = tmp_path / (Path(name).stem + ".txt")  # the content decides, not the extension
    shutil.copy(FIX / name, renamed)
    assert sniff_format(renamed) == fmt
    assert set(FORMATS) == {"csv", "dat", "spreadsheet", "htmlq", "json", "eqws"}


def test_pqmethod_dat_named_txt_is_sniffed(tmp_path):
    dat = Path(__file__).parents[1] / "reference/data/lipset_kade/LIPSET.DAT"
    shutil.copy(dat, tmp_path / "lipset.txt")
    assert sniff_format(tmp_path / "lipset.txt") == "dat"
    assert read_study(tmp_path / "lipset.txt") == read_study(dat, sta=False)


# ---------------------------------------------------------------------------------------------- HTMLQ
def test_htmlq_export_reads_as_qmethods_import_htmlq():
    s = read_htmlq(FIX / "htmlq_export.csv")
    # qmethod names the sorts q<uid> only when the number of uids equals the number of statements (8 != 6 here)
    assert s.sort_ids == ("q1", "q2", "q3", "q4", "q5", "q6")
    assert s.statement_ids == tuple(f"s{i}" for i in range(1, 9))
    np.testing.assert_array_equal(s.scores, SORTS.T)
    assert s.grid == {-2: 1, -1: 2, 0: 2, 1: 2, 2: 1}
    (note,) = s.notes
    assert note.startswith("12 column(s) not used: 'uid', 'datetime', 'npos'") and "'dur2'" in note  # sid: the names
    by_uid = read_htmlq(FIX / "htmlq_export.csv", id_column="uid")
    assert by_uid.sort_ids == tuple(UIDS) and "'sid'" in by_uid.notes[0] and "'uid'" not in by_uid.notes[0]
    two = read_htmlq(FIX / "htmlq_export.csv", statements_column="s1..s8", id_column="sid")
    np.testing.assert_array_equal(two.scores, s.scores)


def test_htmlq_names_by_uid_when_qmethod_does(tmp_path):
    # eight rows with a uid and eight statements: qmethod's test passes and the names are q<uid>
    lines = (FIX / "htmlq_export.csv").read_text().splitlines()
    extra = [f"{7 + i};{2071500 + i};2018-03-20 10:00:00;" + ";".join(lines[1 + i].split(";")[3:]) for i in range(2)]
    p = tmp_path / "eight.csv"
    p.write_text("\n".join(lines + extra) + "\n")
    assert read_htmlq(p).sort_ids == tuple(f"q{u}" for u in UIDS + ["2071500", "2071501"])


@pytest.mark.r
def test_htmlq_matches_r_import_htmlq(r_session):
    from qvalid.r.session import require_r

    ro = require_r().ro
    d = ro.r(f'suppressMessages(capture.output(x <- qmethod::import.htmlq("{FIX / "htmlq_export.csv"}"))); x[[1]]')
    s = read_study(FIX / "htmlq_export.csv")
    assert tuple(ro.r["names"](d)) == s.sort_ids and tuple(ro.r["rownames"](d)) == s.statement_ids
    np.testing.assert_array_equal(np.array(ro.r["as.matrix"](d)), s.scores)


# ---------------------------------------------------------------------------------------------- JSON and EQ Web Sort
def test_easyhtmlq_json_named_by_keys_as_qmethod():
    s = read_sort_json(FIX / "easyhtmlq.json")
    keys = list(json.loads((FIX / "easyhtmlq.json").read_text()))
    assert s.sort_ids == tuple(keys) and s.statement_ids == tuple(f"s{i}" for i in range(1, 9))
    np.testing.assert_array_equal(s.scores, SORTS.T)
    assert s.notes == ("7 field(s) not used: 'datetime', 'dur0', 'form0', 'nneg', 'nneu', 'npos', 'uid'",)
    assert read_study(FIX / "easyhtmlq.json", id_column="uid").sort_ids == tuple(UIDS)


@pytest.mark.parametrize("name", ["eqws_sheets.csv", "eqws_netlify.csv"])
def test_eq_web_sort_csv_named_by_random_id_as_kade(name):
    s = read_eqws_csv(FIX / name)
    assert s.sort_ids == tuple(f"r{u[-3:]}x" for u in UIDS)
    np.testing.assert_array_equal(s.scores, SORTS.T)
    assert "not used" in s.notes[0] and "'partId'" in s.notes[0] and "'urlUsercode'" in s.notes[0]
    assert read_study(FIX / name, id_column="partId").sort_ids == tuple(f"P{i}" for i in range(1, 7))


def test_web_formats_refuse_what_they_cannot_read(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"a": {"sort": "1|0|-1"}, "b": {"sort": "1|0"}}')
    with pytest.raises(QInputError, match="sort b: unequal sort lengths: 2 scores, the first Q-sort has 3"):
        read_study(bad)
    bad.write_text('{"a": {"sort": "1|x|-1"}, "b": {"sort": "0|1|-1"}}')
    with pytest.raises(QInputError, match="value 'x' is not a number"):
        read_study(bad)
    bad.write_text('{"a": {"sorted": "1|0|-1"}}')
    with pytest.raises(QInputError, match="participant has no 'sort' field"):
        read_study(bad)
    bad.write_text('{"a": [1, 2]')
    with pytest.raises(QInputError, match="not valid JSON"):
        read_study(bad)
    with pytest.raises(QInputError, match="no 'nope' field"):
        read_study(FIX / "eqws_sheets.csv", id_column="nope")
    with pytest.raises(QInputError, match="no column 'nope' in the header"):
        read_study(FIX / "htmlq_export.csv", id_column="nope")
    with pytest.raises(QInputError, match="sheet do.es. not apply to a easy-htmlq"):
        read_study(FIX / "easyhtmlq.json", sheet=0)
    with pytest.raises(QInputError, match="unknown input format 'sav'"):
        read_study(FIX / "easyhtmlq.json", format="sav")


# ---------------------------------------------------------------------------------------------- tables and .xls
def test_numeric_participant_ids_are_ids_not_scores():
    """Issue 21 item 3: "score +2071129 is outside the grid -5..+2071051" no more: ids outside the range of every
    other cell are ids."""
    s = read_csv(FIX / "kenq_sorts.csv", layout="sorts")
    assert s.sort_ids == tuple(UIDS) and s.statement_ids == tuple(f"S{i}" for i in range(1, 9))
    np.testing.assert_array_equal(s.scores, SORTS.T)
    with pytest.raises(QInputError, match="score \\+2071051 is outside the grid -2..\\+2071129"):
        read_csv(FIX / "kenq_sorts.csv", layout="sorts", id_column=None)
    assert read_csv(FIX / "kenq_sorts.csv", layout="sorts", id_column="Participant") == s


def test_generated_ids_never_collide_with_statement_names(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("s1,s2,s3\n1,0,-1\n0,-1,1\n-1,1,0\n")  # statements named s1..s3, no sort ids
    s = read_csv(p, layout="sorts")
    assert s.statement_ids == ("s1", "s2", "s3") and s.sort_ids == ("sort_1", "sort_2", "sort_3")
    p.write_text("a,b,c\n1,0,-1\n0,-1,1\n-1,1,0\n")
    assert read_csv(p, layout="sorts").sort_ids == ("s1", "s2", "s3")  # qmethod's default where it is free
    p.write_text("sta_1,sta_2\n1,0\n0,1\n")
    assert read_csv(p).statement_ids == ("statement_1", "statement_2")


def test_statements_column_picks_the_scores_and_reports_the_rest(tmp_path):
    p = tmp_path / "export.csv"
    rows = ["id,age,S1,S2,S3,S4,S5,S6,S7,S8,comment"]
    rows += [f"{u},{30 + i},{','.join(map(str, SORTS[i]))},fine" for i, u in enumerate(UIDS)]
    p.write_text("\n".join(rows) + "\n")
    s = read_csv(p, layout="sorts", statements_column="S1..S8")
    np.testing.assert_array_equal(s.scores, SORTS.T)
    assert s.sort_ids == tuple(UIDS) and s.notes == ("2 column(s) not used: 'age', 'comment'",)
    assert read_csv(p, layout="sorts", statements_column=["S1", "S2", "S3", "S4", "S5", "S6", "S7", "S8"]) == s
    assert read_csv(p, layout="sorts", statements_column="S1,S2..S8") == s
    with pytest.raises(QInputError, match="statement comment: value 'fine' is not a number"):
        read_csv(p, layout="sorts")
    with pytest.raises(QInputError, match="range S8..S1 runs backwards"):
        read_csv(p, layout="sorts", statements_column="S8..S1")
    with pytest.raises(QInputError, match="statements_column .--statements-column. picks the score columns"):
        read_csv(p, statements_column="S1..S8")


def test_xls_workbooks_read_like_csv():
    s = read_study(FIX / "study_sorts.xls", layout="sorts")
    assert s.sort_ids == ("2071129", "2071051", "2071201", "2071377", "2071402")  # numeric cells, ids by range
    assert s.statement_ids == tuple(f"S{i}" for i in range(1, 10)) and s.n_sorts == 5
    assert s.grid == {-2: 1, -1: 2, 0: 3, 1: 2, 2: 1}
    assert read_xlsx(FIX / "study_sorts.xls", layout="sorts", statements_column="S1..S9") == s


def test_a_broken_xls_is_one_line(tmp_path):
    bad = tmp_path / "bad.xls"
    bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(QInputError, match="bad.xls: not a readable workbook"):
        read_study(bad)


# ---------------------------------------------------------------------------------------------- command line
def test_cli_reads_every_format_and_warns_about_unused_columns(capsys):
    code, out, err = run(capsys, "validate", FIX / "htmlq_export.csv", "--layout", "sorts")
    assert code == 0 and "8 statements x 6 Q-sorts" in out
    assert err.startswith("qvalid validate: warning: ") and "12 column(s) not used: 'uid'" in err
    assert len(err.splitlines()) == 1
    code, out, err = run(capsys, "validate", FIX / "easyhtmlq.json", "--format", "json")
    assert code == 0 and json.loads(out)["sort_ids"][0] == "-LfQ0x2071129" and "not used" in err
    code, out, err = run(capsys, "validate", FIX / "kenq_sorts.csv", "--layout", "sorts", "--id-column", "0")
    assert code == 0 and "sorts: 2071129 2071051" in out and err == ""
    code, out, _ = run(capsys, "analyze", FIX / "study_sorts.xls", "-k", "1", "--layout", "sorts")
    assert code == 0 and "5 Q-sorts" in out


def test_cli_format_in_forces_and_refuses(capsys, tmp_path):
    copy = tmp_path / "sorts.dat"  # a web export saved under a misleading extension
    shutil.copy(FIX / "eqws_netlify.csv", copy)
    code, _, err = run(capsys, "validate", copy)
    assert code == 2 and "malformed .DAT header" in err and len(err.splitlines()) == 1
    code, out, _ = run(capsys, "validate", copy, "--format-in", "eqws")
    assert code == 0 and "6 Q-sorts" in out
    code, _, err = run(capsys, "validate", FIX / "kenq_sorts.csv", "--format-in", "dat")
    assert code == 2 and err.count("\n") == 1
    code, _, err = run(capsys, "validate", FIX / "easyhtmlq.json", "--text-column", "x")
    assert code == 2 and "--text-column applies to CSV files and spreadsheets" in err


@pytest.mark.parametrize("command, extra", [("validate", []), ("analyze", ["-k", "1"]), ("factors", ["--runs", "5"]),
                                            ("bootstrap", ["-k", "1", "-n", "5"])])
def test_every_study_command_takes_the_study_options(capsys, command, extra):
    code, out, err = run(capsys, command, FIX / "kenq_sorts.csv", "--layout", "sorts", "--id-column",
                         "Participant", "--statements-column", "S1..S8", *extra)
    assert code == 0, err
    assert "2071129" in out or command == "factors"


def test_analyze_on_an_htmlq_export_matches_the_csv_of_the_same_sorts(tmp_path):
    s = read_study(FIX / "htmlq_export.csv")
    p = tmp_path / "same.csv"
    from qvalid.io import write_csv

    write_csv(s, p)
    a, b = analyze(s, 2), analyze(read_csv(p), 2)
    np.testing.assert_array_equal(a.loadings, b.loadings)
    np.testing.assert_array_equal(a.factor_arrays, b.factor_arrays)


def test_compare_takes_the_study_options(capsys):
    """Issue 21 item 7: ``compare --layout sorts`` was "unrecognized arguments"; now every study option is there,
    with the did-you-mean hint."""
    code, out, err = run(capsys, "compare", "qmethod", "kade", "--study", FIX / "kenq_sorts.csv", "-k", "2",
                         "--layout", "sorts")
    assert code == 0 and "qmethod" in out, err
    code, _, err = run(capsys, "compare", "qmethod", "kade", "--study", FIX / "kenq_sorts.csv", "-k", "2")
    assert code == 2 and "did you mean --layout sorts?" in err and err.count("\n") == 1
    code, out, err = run(capsys, "compare", "qmethod", "kade", "--study", FIX / "htmlq_export.csv", "-k", "2",
                         "--id-column", "uid")
    assert code == 0 and "not used" in err


def test_an_unknown_binary_file_says_what_qvalid_reads(tmp_path, capsys):
    p = tmp_path / "study.sav"  # e.g. an SPSS file
    p.write_bytes(b"$FL2\x00\x01\x02" + bytes(40))
    code, _, err = run(capsys, "validate", p)
    assert code == 2 and err.count("\n") == 1
    one_line(code, err, "study.sav: not a text file; qvalid reads .csv, .tsv, .txt, .dat, .xlsx, .xlsm, .xls, .ods, .json")


# ---------------------------------------------------------------------------------------------- refusals and edges
def test_htmlq_refusals(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text("sid;uid;s1;s2\n")
    with pytest.raises(QInputError, match="needs a header line and at least one Q-sort"):
        read_htmlq(p)
    with pytest.raises(QInputError, match="names one column"):
        read_htmlq(FIX / "htmlq_export.csv", id_column="sid..uid")
    p.write_text("sid;uid;s1;s2;s3\n1;a;1;0;-1\n2;;0;-1;1\n")
    with pytest.raises(QInputError, match=r"h\.csv:3: empty Q-sort name"):
        read_htmlq(p, id_column="uid")
    with pytest.raises(QInputError, match="the id column 's1' is also a statement column"):
        read_htmlq(p, id_column="s1")
    p.write_text("sid;uid;s1;s2;s3\n1;a;1;0;-1\n2;b;0;-1\n")
    with pytest.raises(QInputError, match=r"h\.csv:3: row has 4 fields, the header has 5"):
        read_htmlq(p)


def test_r_non_na_counts_as_read_csv2_reads_a_column():
    """qmethod's sum(!is.na(a$uid)): a numeric column's blanks are NA; a text column's are not ("" is not NA)."""
    from qvalid.io.websort import _r_non_na

    assert _r_non_na(["12", "", "14"]) == 2          # numeric: the blank is NA
    assert _r_non_na(["ab", "", "cd"]) == 3          # text: the blank is "", not NA
    assert _r_non_na(["12", "NA", "14"]) == 2        # the text NA is NA in both
    assert _r_non_na(["ab", "NA", ""]) == 2
    assert _r_non_na(["1,5", ""]) == 1               # read.csv2: a decimal comma is a number


def test_eq_web_sort_naming_without_random_id(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("header,,\npartId: P1,sort: 1|0|-1\npartId: P2,sort: 0|-1|1\n")
    s = read_eqws_csv(p)
    assert s.sort_ids == ("row 2", "row 3") and "Q-sorts named by the rows" in s.notes[-1]
    assert "'partId'" in s.notes[0]
    named = read_eqws_csv(p, id_column="partId")
    assert named.sort_ids == ("P1", "P2") and named.notes == ()
    ran = read_eqws_csv(FIX / "eqws_sheets.csv")
    assert "'randomId'" not in ran.notes[0]  # the id field is used, not reported
    p.write_text('"| a:|1| :|2| sort:|1|0|-1|"\n"| a:|3| :|4| sort:|0|-1|1|"\n')
    assert read_eqws_csv(p, id_column="a").notes == ()  # ":" alone is no field name


def test_resamples_refusals(tmp_path):
    from qvalid.io import read_resamples

    p = tmp_path / "r.csv"
    p.write_text('"","bsampl_1"\n')
    with pytest.raises(QInputError, match="expected a header .bsampl_1"):
        read_resamples(p)
    p.write_text('"","bsampl_1"\n"1",1\n')
    assert read_resamples(p).tolist() == [[0]]  # one position, one step: sort 1 -> index 0
    p.write_text('""\n"1"\n"2"\n')
    with pytest.raises(QInputError, match="no columns of resampling steps"):
        read_resamples(p)
    p.write_text('bsampl_1,bsampl_2\n1,2\n2,2\n')  # no row-name column
    assert read_resamples(p).tolist() == [[0, 1], [1, 1]]
    p.write_text('"",bsampl_1,bsampl_2\n"1",1,3\n"2",2,2\n')
    with pytest.raises(QInputError, match=r"sort numbers must lie in 1\.\.2 .* found 1\.\.3"):
        read_resamples(p)
    p.write_text('"",bsampl_1,bsampl_2\n"1",1,x\n"2",2,2\n')
    with pytest.raises(QInputError, match=r"r\.csv:2: 'x' is not a Q-sort number"):
        read_resamples(p)
    p.write_text('"",bsampl_1,bsampl_2\n"1",1\n"2",2,2\n')
    with pytest.raises(QInputError, match=r"r\.csv:2: row has 2 fields, the header has 3"):
        read_resamples(p)
    p.write_text('"",bsampl_1\n"1",0\n"2",2\n')
    with pytest.raises(QInputError, match=r"must lie in 1\.\.2"):
        read_resamples(p)


def test_htmlq_columns_by_index_and_without_statements(tmp_path):
    assert read_htmlq(FIX / "htmlq_export.csv", id_column=1).sort_ids == tuple(UIDS)  # column 1 is uid
    assert read_htmlq(FIX / "htmlq_export.csv", id_column=0).sort_ids == tuple("123456")  # column 0 is sid
    with pytest.raises(QInputError, match="column 99 is outside the 21 columns"):
        read_htmlq(FIX / "htmlq_export.csv", id_column=99)
    p = tmp_path / "h.csv"
    p.write_text("sid;uid;a;b\n1;x;1;0\n2;y;0;1\n")
    with pytest.raises(QInputError, match="no statement columns s1, s2, ... in the header"):
        read_htmlq(p)
    assert read_htmlq(p, statements_column="a..b", grid={0: 1, 1: 1}).statement_ids == ("a", "b")


def test_resamples_with_a_named_row_name_column(tmp_path):
    from qvalid.io import read_resamples

    p = tmp_path / "r.csv"
    p.write_text('"pos","bsampl_1"\n"1",2\n"2",1\n')  # a first column named otherwise holds the positions
    assert read_resamples(p).tolist() == [[1, 0]]


def test_analyze_takes_flags_from_an_xls(capsys):
    """Issue 21 item 1: ``analyze --flags X.xls`` said only "not a text file"."""
    code, out, err = run(capsys, "analyze", FIX / "study_sorts.xls", "--layout", "sorts", "-k", "1", "--flags",
                         FIX / "flags.xls", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["options"]["manual_flags"] is True
    assert [row[0] for row in d["flags"]] == [True, False, True, True, False]


def test_statements_column_single_column_ranges(tmp_path):
    p = tmp_path / "export.csv"
    rows = ["id,S1,S2,S3,S4,S5,S6,S7,S8"] + [f"{u},{','.join(map(str, SORTS[i]))}" for i, u in enumerate(UIDS)]
    p.write_text("\n".join(rows) + "\n")
    assert read_csv(p, layout="sorts", statements_column="S1..S1,S2..S8") == read_csv(p, layout="sorts")


def test_an_empty_flags_workbook_is_one_line(tmp_path):
    import pandas as pd

    from qvalid.io import read_flags

    p = tmp_path / "flags.xlsx"
    pd.DataFrame().to_excel(p, index=False)
    with pytest.raises(QInputError, match="empty flags table"):
        read_flags(p, ["a", "b"], 1)


def test_csv_column_refusals(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("id,S1,S2,note\na,1,0,x\nb,0,1,y\n")
    with pytest.raises(QInputError, match="statements_column: no columns named"):
        read_csv(p, layout="sorts", statements_column=",")
    with pytest.raises(QInputError, match="text_column and id_column are the same column"):
        read_csv(p, text_column="note", id_column="note")
