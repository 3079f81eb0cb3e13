"""The qvalid command line: exit codes, one-line errors, both output formats."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from qvalid.cli import main

ROOT = Path(__file__).resolve().parents[1]
LIPSET = str(ROOT / "reference" / "data" / "lipset" / "lipset.csv")
NAV = str(ROOT / "reference" / "data" / "nav_aap_2023" / "loadings_published.csv")


def test_version(capsys):
    with pytest.raises(SystemExit) as ex:
        main(["--version"])
    assert ex.value.code == 0 and capsys.readouterr().out.startswith("qvalid ")


def test_validate_ok(capsys):
    assert main(["validate", LIPSET]) == 0
    out = capsys.readouterr().out
    assert "33 statements x 9 Q-sorts, forced grid -4..+4 (2,3,4,5,5,5,4,3,2)" in out


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,a,b\nsta_1,1,x\nsta_2,-1,1\n")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.csv:2" in err and "statement sta_1" in err and "'x'" in err


def test_missing_file_exit_2(capsys):
    assert main(["analyze", "no/such/file.csv", "-k", "2"]) == 2
    assert "no/such/file.csv" in capsys.readouterr().err


def test_bad_option_exit_2(capsys):
    assert main(["analyze", LIPSET, "-k", "12"]) == 2
    assert "exceeds the number of Q-sorts (9)" in capsys.readouterr().err


def test_analyze_text(capsys):
    assert main(["analyze", LIPSET, "-k", "3"]) == 0
    out = capsys.readouterr().out
    assert "Loadings (* = flagged)" in out and "JP5" in out and "Factor arrays" in out


def test_analyze_json_matches_the_api(capsys):
    from qvalid import analyze
    from qvalid.io import read_study

    assert main(["analyze", LIPSET, "-k", "2", "--extraction", "centroid", "--rotation", "none",
                 "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    res = analyze(read_study(LIPSET), 2, extraction="centroid", rotation="none")
    assert d["loadings"] == res.loadings.tolist() and d["options"]["rotation"] == "none"


def test_flag_published_nav_table(capsys):
    assert main(["flag", NAV, "--threshold", "0.42"]) == 0
    out = capsys.readouterr().out
    assert "counts per factor: 7/3/3/6" in out and "flagged: 19 of 25" in out
    assert "f1:   7  01ZH DDT7 H7OC IW3H KWWU MS1Z V4ND" in out


def test_flag_needs_a_rule(capsys):
    assert main(["flag", NAV]) == 2
    assert "--threshold" in capsys.readouterr().err


def test_console_script_runs_without_traceback(tmp_path):
    bad = tmp_path / "short.csv"
    bad.write_text("id,a\nsta_1,1\nsta_2,-1\n")
    p = subprocess.run([sys.executable, "-m", "qvalid", "validate", str(bad)], capture_output=True, text=True)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "at least 2 Q-sorts" in p.stderr


def test_negative_grid_start_is_accepted(tmp_path, capsys):
    # a non-forced study on a notional grid -2..+2 given as "--grid -2:1,1,2,1,1" (argparse alone rejects it)
    f = tmp_path / "nf.csv"
    f.write_text("id,a,b,c\ns1,2,2,0\ns2,-1,2,1\ns3,0,1,-1\ns4,1,-1,0\ns5,0,0,2\ns6,-2,-2,-2\n")
    assert main(["validate", str(f)]) == 2  # grid from sort a; sort b has +2 twice and 0 once
    assert "sort b: score 0 has 1 statement, grid allows 2; score +2 has 2 statements, grid allows 1" in \
        capsys.readouterr().err
    assert main(["validate", str(f), "--non-forced", "--grid", "-2:1,1,2,1,1"]) == 0
    assert "non-forced grid -2..+2 (1,1,2,1,1)" in capsys.readouterr().out


def test_python_m_qvalid_is_the_qvalid_command():
    p = subprocess.run([sys.executable, "-m", "qvalid", "validate", LIPSET], capture_output=True, text=True)
    assert p.returncode == 0 and "33 statements x 9 Q-sorts" in p.stdout
    p = subprocess.run([sys.executable, "-m", "qvalid", "analyze", "no/such.csv", "-k", "2"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and "no/such.csv" in p.stderr


def test_library_never_imports_the_cli():
    """../shared/docs/architecture.md: nothing outside qvalid/cli imports it (no import cycle)."""
    import re

    pkg = ROOT / "qvalid"
    offenders = [str(p.relative_to(ROOT)) for p in pkg.rglob("*.py")
                 if "cli" not in p.relative_to(pkg).parts and p.name != "__main__.py"
                 and re.search(r"^\s*(from\s+(\.+|qvalid\.)cli\b|import\s+qvalid\.cli)", p.read_text(), re.M)]
    assert offenders == []
