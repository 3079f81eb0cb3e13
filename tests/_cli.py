"""Running the command line in-process in tests: exit code, stdout and stderr, and the one-line error check."""

from __future__ import annotations

import shutil

from qvalid.cli import main


def run_cli(capsys, *argv):
    """``qvalid ARGV...`` (arguments turned into text): ``(exit code, stdout, stderr)``."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err, *parts):
    """A refusal: exit 2, exactly one line on stderr without a traceback, naming each of ``parts``."""
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for p in parts:
        assert p in err, (p, err)


def snapshot_in(tmp_path, capsys, study, k: int = 3):
    """``study`` copied into ``tmp_path`` as study.csv and its ``k``-factor snapshot written beside it by
    ``qvalid snapshot`` (qvalid side): the snapshot's path."""
    shutil.copy(study, tmp_path / "study.csv")
    path = tmp_path / "analysis.qsnap.json"
    code, _, err = run_cli(capsys, "snapshot", tmp_path / "study.csv", "-k", k, "-o", path)
    assert code == 0, err
    return path
