"""The same analysis in Python, guarded by qvalid's qsnapshot fixture (snapshots in tests/__qsnapshots__/)."""
from qvalid import analyze, bootstrap
from qvalid.io import read_study


def study():
    return read_study("data/study.csv")


def test_three_factors(qsnapshot):
    qsnapshot.check(analyze(study(), 3))


def test_three_factors_are_stable(qsnapshot):
    qsnapshot.check(bootstrap(study(), 3, n_resamples=200, seed=2024))
