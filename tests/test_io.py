"""Readers and writers: exact round trips, byte-for-byte reproduction of the reference files, atomic writes."""

from __future__ import annotations

import hashlib
import os
import shutil
import string
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvalid import QInputError, QStudy
from qvalid.datasets import load_lipset, nav_grid, nav_published_loadings, nav_statements
from qvalid.io import read_csv, read_dat, read_study, write_csv, write_dat, write_study

REF = Path(__file__).resolve().parents[1] / "reference" / "data"
LIPSET_CSV = REF / "lipset" / "lipset.csv"
LIPSET_TEXTS = REF / "lipset" / "lipset_statements.csv"
LIPSET_DAT = REF / "lipset_kade" / "LIPSET.DAT"
LIPSET_STA = REF / "lipset_kade" / "LIPSET.STA"
LIPSET_SORTS = ("US1", "US2", "US3", "US4", "JP5", "CA6", "UK7", "US8", "FR9")
LIPSET_GRID = {-4: 2, -3: 3, -2: 4, -1: 5, 0: 5, 1: 5, 2: 4, 3: 3, 4: 2}


def md5(path) -> str:
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def lipset() -> QStudy:
    return read_csv(LIPSET_CSV)


def nonforced_study() -> QStudy:
    """A small non-forced study: scores inside -3..+3 that do not fill the grid."""
    scores = np.array([[-3, 0, 1], [3, 0, 2], [0, -1, 0], [1, 1, -2], [-1, 2, 0], [0, -2, -1], [2, 0, 3]])
    grid = {-3: 1, -2: 1, -1: 1, 0: 1, 1: 1, 2: 1, 3: 1}
    return QStudy.from_array(scores, sort_ids=["a1", "b2", "c3"], grid=grid, forced=False, name="free")


# ------------------------------------------------------------------------------------------ the reference data
def test_lipset_csv_is_the_study_of_the_r_package(lipset):
    assert lipset.scores.shape == (33, 9)
    assert lipset.sort_ids == LIPSET_SORTS
    assert lipset.statement_ids == tuple(f"sta_{i}" for i in range(1, 34))
    assert dict(lipset.grid) == LIPSET_GRID and lipset.forced
    assert lipset.scores[0].tolist() == [-1, -1, 2, 3, -4, 1, 2, -2, 3]  # sta_1 row of lipset$ldata
    assert lipset.source == str(LIPSET_CSV)


def test_lipset_from_csv_equals_lipset_from_dat(lipset):
    dat = read_dat(LIPSET_DAT)
    np.testing.assert_array_equal(dat.scores, lipset.scores)
    assert dat.sort_ids == lipset.sort_ids
    assert dat.statement_ids == lipset.statement_ids
    assert dict(dat.grid) == dict(lipset.grid)
    assert dat.name == "Lipset: Brown (1980) Political Subjectivity, pp. 183ff."
    assert dat.statement_texts[0] == "We accept improvements in status and power of lower class"
    assert len(dat.statement_texts) == 33


def test_write_csv_reproduces_lipset_csv_byte_for_byte(lipset, tmp_path):
    out = tmp_path / "lipset.csv"
    write_csv(lipset, out)
    assert out.read_bytes() == LIPSET_CSV.read_bytes()


def test_write_dat_reproduces_lipset_dat_and_sta_byte_for_byte(tmp_path):
    out = tmp_path / "LIPSET.DAT"
    write_dat(read_dat(LIPSET_DAT), out)
    assert out.read_bytes() == LIPSET_DAT.read_bytes()
    assert (tmp_path / "LIPSET.STA").read_bytes() == LIPSET_STA.read_bytes()


def test_reading_and_writing_never_modifies_the_inputs(tmp_path):
    before = {p: md5(p) for p in (LIPSET_CSV, LIPSET_DAT, LIPSET_STA)}
    write_study(read_study(LIPSET_CSV), tmp_path / "a.dat")
    write_study(read_study(LIPSET_DAT), tmp_path / "b.csv")
    assert {p: md5(p) for p in before} == before


# ------------------------------------------------------------------------------------------ round trips
def test_csv_round_trip_statements_layout_with_texts(tmp_path):
    study = load_lipset()
    write_csv(study, tmp_path / "s.csv", text=True)
    back = read_csv(tmp_path / "s.csv", text_column="text", name="lipset")
    assert back == study
    assert back.statement_texts[1].endswith("others. ")  # trailing blank of lipset$ltext kept


def test_csv_round_trip_sorts_layout(lipset, tmp_path):
    write_csv(lipset, tmp_path / "s.csv", layout="sorts")
    lines = (tmp_path / "s.csv").read_text().splitlines()
    assert len(lines) == 10 and lines[1].startswith('"US1",-1,0,-2,0,')
    assert read_csv(tmp_path / "s.csv", layout="sorts") == lipset


def test_tsv_round_trip(lipset, tmp_path):
    write_study(lipset, tmp_path / "s.tsv")
    assert "\t" in (tmp_path / "s.tsv").read_text().splitlines()[0]
    assert read_study(tmp_path / "s.tsv") == lipset


@pytest.mark.parametrize("sep", [";", "\t", ","])
@pytest.mark.parametrize("layout", ["statements", "sorts"])
def test_separator_is_sniffed(lipset, tmp_path, sep, layout):
    write_csv(lipset, tmp_path / "s.csv", sep=sep, layout=layout)
    assert read_csv(tmp_path / "s.csv", layout=layout) == lipset


def test_semicolon_file_written_by_hand(tmp_path):
    (tmp_path / "s.csv").write_text("id;A;B\nx;1;-1\ny;-1;1\n", encoding="utf-8")
    study = read_csv(tmp_path / "s.csv")
    assert study.sort_ids == ("A", "B") and study.statement_ids == ("x", "y")
    assert study.scores.tolist() == [[1, -1], [-1, 1]]


def test_dat_round_trip_is_exact(tmp_path):
    study = load_lipset()
    write_dat(study, tmp_path / "x.dat")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.dat", "x.sta"]
    assert read_dat(tmp_path / "x.dat") == study


def test_dat_round_trip_non_forced(tmp_path):
    study = nonforced_study()
    write_study(study, tmp_path / "free.DAT")
    assert not (tmp_path / "free.STA").exists()  # no texts, no .STA
    back = read_study(tmp_path / "free.DAT", forced=False)
    assert back == study
    with pytest.raises(QInputError, match="grid allows"):
        read_dat(tmp_path / "free.DAT")  # the same file read as forced


def test_csv_round_trip_non_forced(tmp_path):
    study = nonforced_study()
    write_csv(study, tmp_path / "free.csv")
    assert read_csv(tmp_path / "free.csv", forced=False, grid=dict(study.grid), name="free") == study


def test_dat_without_statement_ids_names_them_like_qmethod(tmp_path):
    study = QStudy.from_array([[1, -1], [-1, 1], [0, 0]], ["p", "q", "r"], ["A", "B"], grid={-1: 1, 0: 1, 1: 1})
    write_dat(study, tmp_path / "x.dat")
    assert read_dat(tmp_path / "x.dat").statement_ids == ("sta_1", "sta_2", "sta_3")


def test_sta_detection_and_opt_out(tmp_path):
    shutil.copy(LIPSET_DAT, tmp_path / "study.dat")
    shutil.copy(LIPSET_STA, tmp_path / "study.STA")
    assert read_dat(tmp_path / "study.dat").statement_texts is not None
    assert read_dat(tmp_path / "study.dat", sta=False).statement_texts is None
    os.remove(tmp_path / "study.STA")
    assert read_dat(tmp_path / "study.dat").statement_texts is None
    assert read_dat(tmp_path / "study.dat", sta=LIPSET_STA).statement_texts[-1] != ""


def test_dat_with_crlf_line_ends_and_dos_eof(tmp_path):
    text = LIPSET_DAT.read_text().replace("\n", "\r\n") + "\x1a"
    (tmp_path / "dos.dat").write_bytes(text.encode("ascii"))
    assert read_dat(tmp_path / "dos.dat") == read_dat(LIPSET_DAT, sta=False)


def test_csv_with_bom_and_crlf(lipset, tmp_path):
    raw = LIPSET_CSV.read_bytes().replace(b"\n", b"\r\n")
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf" + raw)
    back = read_csv(tmp_path / "bom.csv")
    assert back == lipset and back.sort_ids[0] == "US1"


def test_r_write_table_header_without_row_name_cell(lipset, tmp_path):
    lines = LIPSET_CSV.read_text().splitlines()
    lines[0] = lines[0].removeprefix('"",')
    (tmp_path / "wt.csv").write_text("\n".join(lines) + "\n")
    assert read_csv(tmp_path / "wt.csv") == lipset


def test_auto_id_column_takes_row_numbers_as_ids(tmp_path):
    # lipset_sorts.csv style: header "statement", ids 1..33
    rows = LIPSET_CSV.read_text().splitlines()
    numbered = ["statement," + rows[0].split(",", 1)[1]]
    numbered += [f"{i}," + r.split(",", 1)[1] for i, r in enumerate(rows[1:], start=1)]
    (tmp_path / "n.csv").write_text("\n".join(numbered) + "\n")
    study = read_csv(tmp_path / "n.csv")
    assert study.statement_ids == tuple(str(i) for i in range(1, 34))
    assert study.sort_ids == LIPSET_SORTS


def test_no_id_column_gives_qmethod_default_ids(tmp_path):
    (tmp_path / "x.csv").write_text("A,B,C\n1,-1,0\n-1,0,1\n0,1,-1\n")
    study = read_csv(tmp_path / "x.csv")
    assert study.statement_ids == ("sta_1", "sta_2", "sta_3") and study.sort_ids == ("A", "B", "C")
    sorts = read_csv(tmp_path / "x.csv", layout="sorts", id_column=None)
    assert sorts.sort_ids == ("s1", "s2", "s3") and sorts.statement_ids == ("A", "B", "C")


def test_explicit_id_and_text_columns(tmp_path):
    (tmp_path / "x.csv").write_text("text,A,id,B\nfirst,1,p,-1\n\"second, quoted\",-1,q,1\n")
    study = read_csv(tmp_path / "x.csv", id_column="id", text_column=0)
    assert study.statement_ids == ("p", "q") and study.sort_ids == ("A", "B")
    assert study.statement_texts == ("first", "second, quoted")


def test_blank_lines_and_trailing_empty_columns_are_ignored(lipset, tmp_path):
    lines = [line + ",," for line in LIPSET_CSV.read_text().splitlines()]
    lines.insert(5, "")
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n\n\n")
    assert read_csv(tmp_path / "x.csv") == lipset


# ------------------------------------------------------------------------------------------ dispatch
def test_read_study_dispatches_on_extension(lipset, tmp_path):
    assert read_study(LIPSET_DAT) == read_dat(LIPSET_DAT)
    shutil.copy(LIPSET_CSV, tmp_path / "lipset.txt")
    assert read_study(tmp_path / "lipset.txt") == lipset
    with pytest.raises(QInputError, match=r"x\.json: cannot read the file: No such file"):  # JSON: read_sort_json
        read_study(tmp_path / "x.json")
    with pytest.raises(QInputError, match=r"x\.xlsx: cannot read the file: no such file"):  # spreadsheets: read_xlsx
        read_study(tmp_path / "x.xlsx")
    with pytest.raises(QInputError, match=r"cannot write '\.json' files: use \.csv, \.tsv, \.txt or \.dat"):
        write_study(lipset, tmp_path / "x.json")


# ------------------------------------------------------------------------------------------ safe writing
def test_writers_refuse_to_overwrite_their_source(tmp_path):
    shutil.copy(LIPSET_CSV, tmp_path / "in.csv")
    shutil.copy(LIPSET_DAT, tmp_path / "IN.DAT")
    before = md5(tmp_path / "in.csv"), md5(tmp_path / "IN.DAT")
    study = read_csv(tmp_path / "in.csv")
    with pytest.raises(QInputError) as err:
        write_csv(study, tmp_path / "in.csv", layout="sorts")
    assert str(err.value) == (f"{tmp_path / 'in.csv'}: refusing to overwrite {tmp_path / 'in.csv'}, the file this "
                              "study was read from; write to a new file")
    with pytest.raises(QInputError, match="refusing to overwrite"):
        write_study(read_dat(tmp_path / "IN.DAT"), tmp_path / "IN.DAT")
    (tmp_path / "sub").mkdir()
    with pytest.raises(QInputError, match="refusing to overwrite"):  # the same file through another path
        write_csv(study, tmp_path / "sub" / ".." / "in.csv")
    assert (md5(tmp_path / "in.csv"), md5(tmp_path / "IN.DAT")) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["IN.DAT", "in.csv", "sub"]
    write_csv(study.replace(source=None), tmp_path / "in.csv", layout="sorts")  # allowed once detached
    assert md5(tmp_path / "in.csv") != before[0]


def test_atomic_write_leaves_no_temporary_files(lipset, tmp_path):
    write_csv(lipset, tmp_path / "a.csv")
    write_csv(lipset, tmp_path / "a.csv")  # replacing an existing file
    write_dat(load_lipset(), tmp_path / "b.DAT")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.csv", "b.DAT", "b.STA"]


def test_failed_write_keeps_the_old_file_and_cleans_up(lipset, tmp_path, monkeypatch):
    target = tmp_path / "a.csv"
    target.write_text("old\n")

    def broken_replace(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(QInputError, match="cannot write the file: Permission denied"):
        write_csv(lipset, target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.csv"]


def test_unwritable_study_writes_nothing(tmp_path):
    wide = QStudy.from_array(np.array([[-7, 7], [7, -7]]), grid={-7: 1, 7: 1})
    with pytest.raises(QInputError) as err:
        write_dat(wide, tmp_path / "w.dat")
    assert str(err.value) == (f"{tmp_path / 'w.dat'}: a PQMethod .DAT file holds scores -6..+13 only; "
                              "the grid -7..+7 cannot be written")
    long_id = QStudy.from_array(np.array([[1, -1], [-1, 1]]), sort_ids=["participant1", "p2"])
    with pytest.raises(QInputError, match="sort participant1: a PQMethod Q-sort name is at most 10 characters"):
        write_dat(long_id, tmp_path / "w.dat")
    assert list(tmp_path.iterdir()) == []


def test_write_csv_text_needs_texts(lipset, tmp_path):
    with pytest.raises(QInputError, match="text=True needs"):
        write_csv(lipset, tmp_path / "x.csv", text=True)


# ------------------------------------------------------------------------------------------ property: round trips
_ID = st.text(string.ascii_letters + string.digits + "_", min_size=1, max_size=10).filter(lambda s: s != "text")
_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=30)


@st.composite
def studies(draw):
    lo = draw(st.integers(-6, 11))
    counts = draw(st.lists(st.integers(0, 4), min_size=2, max_size=13 - lo + 1))
    counts[0] = counts[0] or 1  # at least two distinct scores: no sort has zero variance
    counts[-1] = counts[-1] or 1
    grid = {lo + k: c for k, c in enumerate(counts) if c}
    qscores = np.repeat(list(grid), list(grid.values()))
    n_sorts = draw(st.integers(2, 5))
    columns = [draw(st.permutations(qscores.tolist())) for _ in range(n_sorts)]
    sort_ids = draw(st.lists(_ID, min_size=n_sorts, max_size=n_sorts, unique=True))
    texts = draw(st.lists(_TEXT, min_size=len(qscores), max_size=len(qscores)))
    name = draw(_TEXT)
    return QStudy.from_array(np.array(columns).T, sort_ids=sort_ids, statement_texts=texts, name=name)


@settings(max_examples=60, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(study=studies())
def test_every_writer_round_trips_exactly(study, tmp_path):
    write_dat(study, tmp_path / "x.dat")
    assert read_dat(tmp_path / "x.dat") == study
    write_csv(study, tmp_path / "x.csv", text=True)
    assert read_csv(tmp_path / "x.csv", text_column="text", name=study.name) == study
    write_csv(study, tmp_path / "x.tsv", layout="sorts")
    assert read_csv(tmp_path / "x.tsv", layout="sorts", name=study.name) == study.replace(statement_texts=None)


# ------------------------------------------------------------------------------------------ datasets
def test_load_lipset_has_texts_and_name(lipset):
    study = load_lipset()
    assert study.name == "lipset" and study.sort_ids == LIPSET_SORTS
    np.testing.assert_array_equal(study.scores, lipset.scores)
    assert study.statement_texts[2] == "Success in life by a previously deprived person is resented."


def test_bundled_data_are_the_reference_copies():
    pkg = resources.files("qvalid") / "data"
    pairs = {"lipset.csv": REF / "lipset" / "lipset.csv",
             "lipset_statements.csv": REF / "lipset" / "lipset_statements.csv",
             "nav_aap_2023_statements.csv": REF / "nav_aap_2023" / "statements.csv",
             "nav_aap_2023_distribution.csv": REF / "nav_aap_2023" / "distribution.csv",
             "nav_aap_2023_loadings_published.csv": REF / "nav_aap_2023" / "loadings_published.csv"}
    for name, ref in pairs.items():
        assert (pkg / name).read_bytes() == ref.read_bytes(), name


@pytest.mark.parametrize("folder", ["lipset", "lipset_kade", "nav_aap_2023"])
def test_provenance_md5_sums_match_the_files(folder):
    provenance = (REF / folder / "PROVENANCE.md").read_text(encoding="utf-8")
    files = [p for p in (REF / folder).iterdir() if p.name != "PROVENANCE.md"]
    assert files
    for path in files:
        assert f"`{path.name}`" in provenance and md5(path) in provenance, path.name


def test_nav_data():
    assert nav_grid() == {-5: 1, -4: 2, -3: 3, -2: 4, -1: 5, 0: 6, 1: 5, 2: 4, 3: 3, 4: 2, 5: 1}
    statements = nav_statements()
    assert len(statements) == 36 and list(statements.index) == list(range(1, 37))
    assert {"text_no", "text_en"} <= set(statements.columns)
    loadings = nav_published_loadings()
    assert loadings.shape == (25, 4) and list(loadings.columns) == ["f1", "f2", "f3", "f4"]
    assert loadings.loc["01ZH"].tolist() == [0.75615, 0.13723, 0.02557, 0.07625]
    assert loadings.loc["3CUL", "f3"] == -0.49433
    assert loadings.index.is_unique


def test_dat_title_loses_pqmethods_padding(tmp_path):
    """Issue 21 item 10: PQMethod pads the title of line 1 with blanks ("UHH test<60 blanks>: 69 statements")."""
    lines = Path(LIPSET_DAT).read_text().splitlines()
    lines[0] = lines[0][:10] + "UHH test" + " " * 60
    p = tmp_path / "PAD.DAT"
    p.write_text("\n".join(lines) + "\n")
    s = read_dat(p, sta=False)
    assert s.name == "UHH test"
    assert repr(s).startswith("QStudy('UHH test': 33 statements")
