"""Every input error, with its exact message: file, line, Q-sort, statement and reason."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from qvalid import QInputError
from qvalid.io import read_csv, read_dat, read_study, write_csv, write_dat

REF = Path(__file__).resolve().parents[1] / "reference" / "data"
LIPSET_CSV = REF / "lipset" / "lipset.csv"
LIPSET_DAT = REF / "lipset_kade" / "LIPSET.DAT"
GRID_TEXT = "-4..+4 (2,3,4,5,5,5,4,3,2)"
FORCED_HINT = " (declare the study non-forced if this is intended)"


def lipset_rows() -> list[list[str]]:
    """lipset.csv as cells: row 0 is the header (line 1), row i is sta_i (line i + 1); column j is sort j."""
    with open(LIPSET_CSV, newline="") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows, sep=",") -> Path:
    with open(path, "w", newline="") as fh:
        csv.writer(fh, delimiter=sep, lineterminator="\n").writerows(rows)
    return path


def lipset_with(tmp_path, cells: dict, name="lipset.csv") -> Path:
    """lipset.csv with some cells replaced: {(row, column): text}."""
    rows = lipset_rows()
    for (i, j), text in cells.items():
        rows[i][j] = text
    return write_rows(tmp_path / name, rows)


def transposed(rows):
    return [list(col) for col in zip(*rows)]


def message(call, *args, **kw) -> str:
    with pytest.raises(QInputError) as err:
        call(*args, **kw)
    return str(err.value)


# ------------------------------------------------------------------------------------------ cells
def test_missing_cell(tmp_path):
    p = lipset_with(tmp_path, {(4, 3): ""})  # sta_4, US3 -> line 5
    assert message(read_csv, p) == f"{p}:5: sort US3, statement sta_4: missing value"


def test_na_cell_is_missing(tmp_path):
    p = lipset_with(tmp_path, {(7, 9): "NA"})
    assert message(read_csv, p) == f"{p}:8: sort FR9, statement sta_7: missing value ('NA')"


def test_non_numeric_cell(tmp_path):
    p = lipset_with(tmp_path, {(3, 2): "abc"})
    err = pytest.raises(QInputError, read_csv, p).value
    assert str(err) == f"{p}:4: sort US2, statement sta_3: value 'abc' is not a number"
    assert (err.file, err.line, err.sort, err.statement, err.reason) == \
        (str(p), 4, "US2", "sta_3", "value 'abc' is not a number")


def test_non_integer_cell(tmp_path):
    p = lipset_with(tmp_path, {(33, 1): "2.5"})
    assert message(read_csv, p) == f"{p}:34: sort US1, statement sta_33: value '2.5' is not an integer grid score"


def test_raw_cell_text_is_quoted(tmp_path):
    p = lipset_with(tmp_path, {(2, 5): " 1,5 "}, name="x.csv")
    assert message(read_csv, p) == f"{p}:3: sort JP5, statement sta_2: value ' 1,5 ' is not a number"


def test_non_numeric_cell_in_the_sorts_layout_is_on_the_sorts_line(tmp_path):
    rows = transposed(lipset_rows())
    rows[3][8] = "x"  # sort US3 (line 4), statement sta_8
    p = write_rows(tmp_path / "sorts.csv", rows)
    assert message(read_csv, p, layout="sorts") == f"{p}:4: sort US3, statement sta_8: value 'x' is not a number"


def test_line_numbers_count_physical_lines(tmp_path):
    rows = [row + ["text"] if i == 0 else row + [f"line one\nline two of {row[0]}"] for i, row in
            enumerate(lipset_rows())]
    rows[3][1] = "?"  # sta_3: header 1, sta_1 2-3, blank 4, sta_2 5-6, sta_3 7-8
    p = write_rows(tmp_path / "texts.csv", rows[:2] + [[]] + rows[2:])  # and a blank line before sta_2
    assert message(read_csv, p, text_column="text") == f"{p}:7: sort US1, statement sta_3: value '?' is not a number"


# ------------------------------------------------------------------------------------------ shape
def test_unequal_sort_lengths_statements_layout(tmp_path):
    rows = lipset_rows()
    rows[4] = rows[4][:-1]
    p = write_rows(tmp_path / "short.csv", rows)
    assert message(read_csv, p) == f"{p}:5: statement sta_4: unequal sort lengths: row has 8 values, expected 9"
    rows[4] = lipset_rows()[4] + ["1"]
    p = write_rows(tmp_path / "long.csv", rows)
    assert message(read_csv, p) == f"{p}:5: statement sta_4: unequal sort lengths: row has 10 values, expected 9"


def test_unequal_sort_lengths_sorts_layout(tmp_path):
    rows = transposed(lipset_rows())
    rows[3] = rows[3][:-1]
    p = write_rows(tmp_path / "s.csv", rows)
    assert message(read_csv, p, layout="sorts") == \
        f"{p}:4: sort US3: unequal sort lengths: row has 32 scores, expected 33"


@pytest.mark.parametrize("content", ["", "\n\n", " \n\t\n", "\ufeff"])
def test_empty_file(tmp_path, content):
    p = tmp_path / "empty.csv"
    p.write_text(content, encoding="utf-8")
    assert message(read_csv, p) == f"{p}: empty file"
    d = tmp_path / "empty.dat"
    d.write_text(content, encoding="utf-8")
    assert message(read_dat, d) == f"{d}: empty file"


def test_header_only(tmp_path):
    p = write_rows(tmp_path / "h.csv", lipset_rows()[:1])
    assert message(read_csv, p) == f"{p}: a study needs at least 2 statements, found 0"


def test_fewer_than_two_sorts(tmp_path):
    p = write_rows(tmp_path / "one.csv", [row[:2] for row in lipset_rows()])
    assert message(read_csv, p) == f"{p}: a study needs at least 2 Q-sorts, found 1"


def test_header_without_sort_ids(tmp_path):
    p = write_rows(tmp_path / "ids.csv", [["id"]] + [row[:1] for row in lipset_rows()[1:]])
    assert message(read_csv, p) == f"{p}:1: the header has no sort ids"
    p = write_rows(tmp_path / "blank.csv", [[""] * 10] + lipset_rows()[1:])
    assert message(read_csv, p) == f"{p}:1: empty sort id in column 2 of the header"


def test_missing_header_line(tmp_path):
    p = write_rows(tmp_path / "nohead.csv", lipset_rows()[1:])
    assert message(read_csv, p) == (f"{p}:1: the first line looks like scores, not sort ids: the file needs a header "
                                    "line naming the Q-sorts")


# ------------------------------------------------------------------------------------------ ids
def test_duplicate_sort_ids(tmp_path):
    p = lipset_with(tmp_path, {(0, 8): "US1"})
    assert message(read_csv, p) == f"{p}:1: duplicate sort id 'US1' (also at position 1)"
    rows = transposed(lipset_rows())
    rows[8][0] = "US1"
    p = write_rows(tmp_path / "sorts.csv", rows)
    assert message(read_csv, p, layout="sorts") == f"{p}:9: duplicate sort id 'US1' (also at position 1)"


def test_duplicate_statement_ids(tmp_path):
    p = lipset_with(tmp_path, {(12, 0): "sta_2"})
    assert message(read_csv, p) == f"{p}:13: duplicate statement id 'sta_2' (also at position 2)"


def test_empty_ids(tmp_path):
    p = lipset_with(tmp_path, {(0, 4): "  "})
    assert message(read_csv, p) == f"{p}:1: empty sort id in column 5 of the header"
    p = lipset_with(tmp_path, {(6, 0): " "}, name="st.csv")
    assert message(read_csv, p) == f"{p}:7: empty statement id"


# ------------------------------------------------------------------------------------------ grid
def nav_like_rows(extra_four: bool):
    """Two 36-statement sorts on the NAV grid -5..+5 (1,2,3,4,5,6,5,4,3,2,1); 3CUL may move a +3 to +4."""
    qscores = np.repeat(np.arange(-5, 6), [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1])
    second = qscores[::-1].copy()
    if extra_four:
        second[np.flatnonzero(second == 3)[0]] = 4
    rows = [["", "01ZH", "3CUL"]]
    rows += [[str(i + 1), str(a), str(b)] for i, (a, b) in enumerate(zip(qscores, second))]
    return rows


def test_forced_grid_mismatch_names_the_sort_and_the_scores(tmp_path):
    p = write_rows(tmp_path / "nav.csv", nav_like_rows(extra_four=True))
    assert message(read_csv, p) == (f"{p}:1: sort 3CUL: score +3 has 2 statements, grid allows 3; "
                                    f"score +4 has 3 statements, grid allows 2{FORCED_HINT}")
    p = write_rows(tmp_path / "nav_sorts.csv", transposed(nav_like_rows(extra_four=True)))
    assert message(read_csv, p, layout="sorts") == (f"{p}:3: sort 3CUL: score +3 has 2 statements, grid allows 3; "
                                                    f"score +4 has 3 statements, grid allows 2{FORCED_HINT}")


def test_forced_grid_mismatch_against_a_declared_grid(tmp_path):
    p = write_rows(tmp_path / "nav.csv", nav_like_rows(extra_four=False))
    grid = {s: c for s, c in zip(range(-5, 6), [1, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1])}
    assert read_csv(p, grid=grid).n_sorts == 2
    grid[0], grid[1] = 5, 6
    assert message(read_csv, p, grid=grid) == (f"{p}:1: sort 01ZH: score 0 has 6 statements, grid allows 5; "
                                               f"score +1 has 5 statements, grid allows 6{FORCED_HINT}")


def test_value_outside_the_grid(tmp_path):
    p = lipset_with(tmp_path, {(9, 6): "5"})  # sta_9, CA6
    assert message(read_csv, p) == f"{p}:10: sort CA6, statement sta_9: score +5 is outside the grid {GRID_TEXT}"


def test_value_outside_a_non_forced_grid(tmp_path):
    p = lipset_with(tmp_path, {(9, 6): "-5"})
    grid = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}
    assert message(read_csv, p, forced=False, grid=grid) == \
        f"{p}:10: sort CA6, statement sta_9: score -5 is outside the grid {GRID_TEXT}"


def test_grid_that_does_not_sum_to_the_statements(tmp_path):
    grid = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 1}
    assert message(read_csv, LIPSET_CSV, grid=grid) == \
        f"{LIPSET_CSV}: the grid -4..+4 (2,3,4,5,5,5,4,3,1) has 32 cells but the study has 33 statements"


def test_bad_grid_argument_names_the_file():
    assert message(read_csv, LIPSET_CSV, grid={0: -1, 1: 34}) == \
        f"{LIPSET_CSV}: grid entry 0: -1 is not a whole score with a non-negative cell count"


def test_zero_variance_sort_in_a_non_forced_study(tmp_path):
    rows = lipset_rows()
    for row in rows[1:]:
        row[2] = "0"  # US2 all zero
    p = write_rows(tmp_path / "flat.csv", rows)
    grid = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}
    assert message(read_csv, p, forced=False, grid=grid) == \
        f"{p}:1: sort US2: zero variance: every statement has score 0"
    assert message(read_csv, p, grid=grid).startswith(f"{p}:1: sort US2: score -4 has 0 statements, grid allows 2;")


def test_non_forced_study_is_allowed_when_declared(tmp_path):
    rows = lipset_rows()
    rows[1][1], rows[2][1] = rows[2][1], "4"  # US1: one -1 fewer, one +4 more -> breaks the forced grid
    p = write_rows(tmp_path / "free.csv", rows)
    grid = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}
    assert message(read_csv, p, grid=grid) == (f"{p}:1: sort US1: score -1 has 4 statements, grid allows 5; "
                                               f"score +4 has 3 statements, grid allows 2{FORCED_HINT}")
    study = read_csv(p, forced=False, grid=grid)
    assert not study.forced and study.scores[0, 0] == 0 and study.scores[1, 0] == 4
    assert message(read_csv, p, forced=False) == f"{p}: a non-forced study needs its notional distribution (grid)"


# ------------------------------------------------------------------------------------------ PQMethod .DAT
def dat_lines() -> list[str]:
    return LIPSET_DAT.read_text().splitlines()


def write_dat_lines(tmp_path, lines, name="bad.dat") -> Path:
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("line1", ["", "  0  9", "LIPSET study", "  0 nine 33 x"])
def test_malformed_dat_title_line(tmp_path, line1):
    p = write_dat_lines(tmp_path, [line1] + dat_lines()[1:])
    assert message(read_dat, p) == (f"{p}:1: malformed .DAT header: line 1 must start with three 3-character "
                                    "numbers (0, the number of Q-sorts, the number of statements), "
                                    f"got {line1[:9]!r}")


def test_dat_title_line_without_statements(tmp_path):
    p = write_dat_lines(tmp_path, ["  0  9  0 x"] + dat_lines()[1:])
    assert message(read_dat, p) == f"{p}:1: malformed .DAT header: line 1 says 9 Q-sorts and 0 statements"


def test_malformed_dat_grid_line(tmp_path):
    lines = dat_lines()
    p = write_dat_lines(tmp_path, lines[:1] + [lines[1][:-3]] + lines[2:])
    assert message(read_dat, p) == (f"{p}:2: malformed .DAT header: line 2 must hold the lowest and highest score "
                                    "and the number of cells for each score -6..+13 (22 fields of 3 characters, "
                                    "66 characters), got 63 characters")
    p = write_dat_lines(tmp_path, lines[:1] + [lines[1][:9] + "  x" + lines[1][12:]] + lines[2:])
    assert message(read_dat, p) == f"{p}:2: malformed .DAT header: field 4 of line 2 is '  x', not a number"
    p = write_dat_lines(tmp_path, lines[:1])
    assert message(read_dat, p) == f"{p}:2: malformed .DAT header: line 2 (the distribution) is missing"
    p = write_dat_lines(tmp_path, lines[:1] + [" -3" + lines[1][3:]] + lines[2:])
    assert message(read_dat, p) == (f"{p}:2: malformed .DAT header: line 2 gives the score range -3..+4 but has "
                                    "cells from -4 to +4")


def test_dat_grid_that_does_not_sum_to_the_header(tmp_path):
    lines = dat_lines()
    lines[1] = lines[1][:33] + "  2" + lines[1][36:]  # field 12 = score +3: 3 cells -> 2
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == f"{p}:2: grid has 32 cells but header says 33 statements"


def test_dat_sort_line_of_the_wrong_length(tmp_path):
    lines = dat_lines()
    lines[4] = lines[4][:-2]  # US3 one statement short
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == (f"{p}:5: sort US3: Q-sort line has 74 characters, expected 76 (a 10-character "
                                    "name and 2 characters for each of 33 statements)")


def test_dat_sort_count_differs_from_the_header(tmp_path):
    p = write_dat_lines(tmp_path, dat_lines()[:-1])
    assert message(read_dat, p) == f"{p}:1: header says 9 Q-sorts but the file has 8 Q-sort lines"


def test_dat_missing_and_non_numeric_scores(tmp_path):
    lines = dat_lines()
    lines[4] = lines[4][:12] + "  " + lines[4][14:]  # US3, sta_2
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == f"{p}:5: sort US3, statement sta_2: missing value"
    lines = dat_lines()
    lines[10] = lines[10][:74] + "x4"  # FR9, sta_33
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == f"{p}:11: sort FR9, statement sta_33: value 'x4' is not a number"


def test_dat_forced_mismatch_and_empty_name(tmp_path):
    lines = dat_lines()
    lines[3] = lines[3][:10] + " 4" + lines[3][12:]  # US2: sta_1 -1 -> +4
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == (f"{p}:4: sort US2: score -1 has 4 statements, grid allows 5; "
                                    f"score +4 has 3 statements, grid allows 2{FORCED_HINT}")
    lines = dat_lines()
    lines[6] = " " * 10 + lines[6][10:]
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == f"{p}:7: empty sort id (the first 10 characters are blank)"


def test_dat_duplicate_sort_names(tmp_path):
    lines = dat_lines()
    lines[10] = "US1" + lines[10][3:]
    p = write_dat_lines(tmp_path, lines)
    assert message(read_dat, p) == f"{p}:11: duplicate sort id 'US1' (also at position 1)"


def test_dat_grid_argument_must_match_line_2(tmp_path):
    grid = {-5: 1, -4: 1, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}
    assert message(read_dat, LIPSET_DAT, grid=grid) == (f"{LIPSET_DAT}:2: the grid given, -5..+4 (1,1,3,4,5,5,5,4,3,2), "
                                                        f"differs from the .DAT file's {GRID_TEXT}")


def test_sta_with_the_wrong_number_of_lines(tmp_path):
    p = write_dat_lines(tmp_path, dat_lines(), name="x.dat")
    (tmp_path / "x.sta").write_text("one\ntwo\n")
    assert message(read_dat, p) == f"{tmp_path / 'x.sta'}: 2 statement lines, but the .DAT file has 33 statements"


# ------------------------------------------------------------------------------------------ files and options
def test_not_utf8(tmp_path):
    p = tmp_path / "latin1.csv"
    p.write_bytes('"","A","B"\n"caf\xe9",1,-1\n"b",-1,1\n'.encode("latin-1"))
    assert message(read_csv, p) == \
        f"{p}:2: not UTF-8 text (byte 0xe9); re-save it as UTF-8 or give its encoding (e.g. --encoding cp1252)"
    assert read_csv(p, encoding="latin-1").statement_ids == ("caf\u00e9", "b")
    assert message(read_csv, p, encoding="utf-8") == \
        f"{p}:2: not UTF-8 text (byte 0xe9); re-save it as UTF-8 or give its encoding (e.g. --encoding cp1252)"
    assert message(read_csv, p, encoding="klingon") == f"{p}: unknown encoding 'klingon'"


def test_utf16_with_a_byte_order_mark_is_read(tmp_path):
    # Excel's "Unicode text" export: UTF-16 LE with a byte-order mark, tab-separated
    p = tmp_path / "lipset.tsv"
    p.write_bytes(LIPSET_CSV.read_text().replace(",", "\t").encode("utf-16"))
    assert read_csv(p) == read_csv(LIPSET_CSV)


@pytest.mark.parametrize("data, kind", [(b"PK\x03\x04\x14\x00\x00\x00", " (it looks like an .xlsx/.ods workbook: save it as CSV)"),
                                        (b"id,a,b\n\x00\x01\x02\n", "")])
def test_binary_file_is_not_a_text_file(tmp_path, data, kind):
    p = tmp_path / "x.csv"
    p.write_bytes(data)
    assert message(read_csv, p) == f"{p}: not a text file{kind}"
    d = tmp_path / "x.dat"
    d.write_bytes(data)
    assert message(read_dat, d) == f"{d}: not a text file{kind}"


def test_directory_and_unreadable_file(tmp_path):
    d = tmp_path / "study.csv"
    d.mkdir()
    assert message(read_study, d) == f"{d}: cannot read the file: Is a directory"


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    assert message(read_study, p) == f"{p}: cannot read the file: No such file or directory"


def test_bad_options(tmp_path):
    assert message(read_csv, LIPSET_CSV, layout="wide") == "unknown layout 'wide': use 'statements' or 'sorts'"
    assert message(read_csv, LIPSET_CSV, id_column="statement") == \
        f"{LIPSET_CSV}:1: id_column='statement': no such column in the header"
    assert message(read_csv, LIPSET_CSV, text_column=12) == f"{LIPSET_CSV}:1: text_column=12 is outside the 10 columns"
    assert message(read_csv, LIPSET_CSV, layout="sorts", text_column="text") == \
        f"{LIPSET_CSV}: text_column applies to the 'statements' layout only"
    assert message(write_csv, read_csv(LIPSET_CSV), tmp_path / "x.csv", layout="wide") == \
        "unknown layout 'wide': use 'statements' or 'sorts'"


def test_unwritable_texts_and_names_in_dat(tmp_path):
    study = read_dat(LIPSET_DAT)
    texts = list(study.statement_texts)
    texts[4] = "two\nlines"
    assert message(write_dat, study.replace(statement_texts=tuple(texts)), tmp_path / "x.dat") == \
        f"{tmp_path / 'x.sta'}: statement sta_5: the statement text contains a line break; a .STA file has one " \
        "statement per line"
    assert message(write_dat, study.replace(name="a\nb"), tmp_path / "x.dat") == \
        f"{tmp_path / 'x.dat'}: the study name contains a line break; a .DAT title is one line"
    renamed = study.replace(sort_ids=("US 1",) + study.sort_ids[1:])
    assert message(write_dat, renamed, tmp_path / "x.dat") == (f"{tmp_path / 'x.dat'}: sort US 1: a PQMethod Q-sort "
                                                               "name is at most 10 characters without blanks; "
                                                               "rename this Q-sort")
    assert list(tmp_path.iterdir()) == []
