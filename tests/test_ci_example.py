"""docs/ci.md's example research repository (docs/ci/example), run end to end: the commands of its GitHub Actions
and GitLab CI jobs, in a temporary copy, with the qvalid of this checkout and the R of this machine (the steps that
install R, qmethod and qvalid are what this machine's set-up did). Then the same job after a change to the R
analysis, which the guard must catch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))
from _junit import validate_junit  # noqa: E402
from _r import require_r  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "ci" / "example"
pytestmark = pytest.mark.r


def github_steps() -> list:
    jobs = yaml.safe_load((EXAMPLE / ".github" / "workflows" / "qvalid.yml").read_text())["jobs"]
    steps = jobs["guard"]["steps"]
    return [(s["name"], s["run"]) for s in steps if "run" in s and not s["name"].startswith("install")]


def gitlab_script() -> list:
    job = yaml.safe_load((EXAMPLE / ".gitlab-ci.yml").read_text())["qvalid"]
    return [(cmd, cmd) for cmd in job["script"]]


@pytest.fixture
def repo(tmp_path):
    require_r()
    dst = tmp_path / "repo"
    shutil.copytree(EXAMPLE, dst)
    return dst


def run_steps(repo: Path, steps, tmp_path) -> dict:
    """Each step as GitHub runs a ``run:`` (``bash -e {0}``) in the repository; name -> (exit code, output)."""
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               GITHUB_STEP_SUMMARY=str(tmp_path / "summary.md"))
    env.pop("PYTEST_ADDOPTS", None)
    out = {}
    for name, script in steps:
        p = subprocess.run(["bash", "-e", "-c", script], cwd=repo, env=env, capture_output=True, text=True,
                           timeout=600)
        out[name] = (p.returncode, p.stdout + p.stderr)
    return out


def test_the_workflow_files_are_what_docs_ci_shows():
    doc = (EXAMPLE.parents[1] / "ci.md").read_text()
    for f in (".github/workflows/qvalid.yml", ".gitlab-ci.yml", "analysis.R", "tests/test_study.py"):
        assert (EXAMPLE / f).read_text().strip() in doc, f
    names = [n for n, _ in github_steps()]
    assert names == ["run the analysis in R", "guard the analysis (qvalid and R qmethod run again)",
                     "guard the R script's output", "snapshot tests in Python", "summary for the pull request"]
    assert [c for c, _ in gitlab_script()][0] == "Rscript analysis.R"


def test_github_actions_job_passes_on_the_example(repo, tmp_path):
    res = run_steps(repo, github_steps(), tmp_path)
    for name, (code, out) in res.items():
        assert code == 0, f"{name}: exit {code}\n{out}"
    out = res["guard the analysis (qvalid and R qmethod run again)"][1]
    assert "[qvalid] snapshot vs qvalid" in out and "[r] snapshot vs qmethod 1.8.4: SAME" in out
    assert "[r] snapshot vs qm.rds: SAME" in res["guard the R script's output"][1]
    for f in ("qvalid-diff.xml", "qvalid-rds.xml", "pytest.xml"):
        validate_junit(repo / f)
    assert (tmp_path / "summary.md").read_text().startswith("### \u2705 qvalid diff `analysis.qsnap.json`: same")


def test_gitlab_job_passes_on_the_example(repo, tmp_path):
    res = run_steps(repo, gitlab_script(), tmp_path)
    for cmd, (code, out) in res.items():
        assert code == 0, f"{cmd}: exit {code}\n{out}"


def test_a_changed_r_analysis_fails_the_job_naming_what_moved(repo, tmp_path):
    script = repo / "analysis.R"
    script.write_text(script.read_text().replace('rotation = "varimax"', 'rotation = "varimax", '
                                                                          'cor.method = "spearman"'))
    res = run_steps(repo, github_steps(), tmp_path)
    assert res["run the analysis in R"][0] == 0
    assert res["guard the analysis (qvalid and R qmethod run again)"][0] == 0  # the snapshot's analysis: unchanged
    code, out = res["guard the R script's output"]
    assert code == 1, out
    assert "[r] snapshot vs qm.rds: DIFFERS" in out and "reported: options, loadings, zscores" in out
    assert "  options: reported: 1 of 3 cells; cor_method: 'pearson' (snapshot) vs 'spearman' (qm.rds)" in out
    root = validate_junit(repo / "qvalid-rds.xml")
    assert int(root.get("failures")) > 0
    assert any(f.get("type") == "reported" for f in root.iter("failure"))
