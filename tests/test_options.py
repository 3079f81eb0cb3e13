"""The one table of options (qvalid.options.OPTION_INFO): every field classified, every fact consistent, values
checked from the table (allowed values, aliases, ranges; NaN and infinities refused), and the flag-rule text."""

from __future__ import annotations

import math
from dataclasses import fields

import numpy as np
import pytest

from qvalid import FLAVORS, Options, QInputError
from qvalid.options import OPTION_INFO, R_KINDS, STAGES, FlagRule, options_differing, resolve_options, set_by

NAMES = [f.name for f in fields(Options)]


def test_every_field_is_classified():
    assert list(OPTION_INFO) == NAMES
    for f in fields(Options):
        info = OPTION_INFO[f.name]
        assert info.stage in STAGES, f.name
        assert info.r in R_KINDS, f.name
        assert (info.r_name is not None) == (info.r == "argument"), f.name
        assert info.kind in (str, bool, int, float), f.name
        assert bool(info.values) == (info.kind is str), f.name  # every text option is a choice
        assert info.batched is True or isinstance(info.batched, tuple), f.name


@pytest.mark.parametrize("flavor", list(FLAVORS))
def test_every_preset_value_is_allowed_by_the_table(flavor):
    o = FLAVORS[flavor]
    for name, info in OPTION_INFO.items():
        assert info.problem(name, getattr(o, name)) is None, (flavor, name)


def test_aliases_name_tools_and_map_to_allowed_values():
    for name, info in OPTION_INFO.items():
        for alias, value in info.aliases.items():
            assert alias.split("-")[0] in ("qmethod", "kade", "psych") and value in info.values, (name, alias)
            assert getattr(resolve_options(**{name: alias.upper()}), name) == value
    # the tool names are never canonical values: numerical modules see method names only
    assert not any(v in ("qmethod", "kade", "psych") for i in OPTION_INFO.values() for v in i.values)


def test_batched_values_are_allowed_values_and_include_the_qmethod_preset():
    for name, info in OPTION_INFO.items():
        if info.batched is not True:
            assert getattr(FLAVORS["qmethod"], name) in info.batched, name
            assert all(v is None or info.problem(name, v) is None for v in info.batched), name


def test_set_by_is_derived_from_the_presets():
    assert set_by("varimax_rule") == ("kade", "pqmethod")
    assert set_by("threshold") == ()
    assert set(options_differing(FLAVORS["kade"])) | set(options_differing(FLAVORS["pqmethod"])) == \
        {n for n in NAMES if set_by(n)}
    assert set_by("horst_tol") == ("pqmethod",)
    assert set(options_differing(FLAVORS["pqmethod"], FLAVORS["kade"])) == {"horst_tol"}


@pytest.mark.parametrize("name", [n for n, i in OPTION_INFO.items() if i.kind in (int, float)])
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), "1", True])
def test_numbers_refuse_nan_infinity_text_and_booleans(name, bad):
    with pytest.raises(QInputError, match=f"option {name}="):
        resolve_options(**{name: bad})


@pytest.mark.parametrize("name, value", [("spc", 0.0), ("spc", -1e-5), ("threshold", 0.0), ("threshold", 1.0),
                                         ("cor_digits", -1), ("cor_digits", 16), ("cor_digits", 2.5),
                                         ("horst_factors", 0), ("horst_max_iter", 0), ("horst_tol", 0.0),
                                         ("varimax_eps", 0.0), ("varimax_max_iter", -3), ("flag_z", 0.0),
                                         ("av_rel_coef", 0.0), ("av_rel_coef", 1.5)])
def test_ranges_are_checked(name, value):
    with pytest.raises(QInputError, match=f"option {name}={value!r} must"):
        resolve_options(**{name: value})


@pytest.mark.parametrize("name, value", [("threshold", 0.999), ("av_rel_coef", 1.0), ("cor_digits", 0),
                                         ("cor_digits", 15), ("horst_factors", 1), ("majority", np.bool_(False)),
                                         ("varimax_max_iter", np.int64(5)), ("flag_z", np.float64(2.5))])
def test_range_ends_and_numpy_scalars_are_accepted(name, value):
    assert getattr(resolve_options(**{name: value}), name) == value


def test_choices_name_their_values_and_aliases():
    with pytest.raises(QInputError, match=r"pca_rule='svd' is not one of principal, qpca, psych \(= principal\)"):
        resolve_options(pca_rule="svd")
    with pytest.raises(QInputError, match="must be true or false"):
        resolve_options(majority="yes")
    assert resolve_options(cor_digits=5.0).cor_digits == 5 and isinstance(resolve_options(cor_digits=5.0).cor_digits,
                                                                            int)


def test_flag_rule_text_is_one_sentence_in_every_form():
    r = FlagRule(None, 1.96, 33, True)
    assert r.text() == "|a| > 1.96/sqrt(33) and a^2 > h^2/2"
    assert r.text(value=True) == f"|a| > 1.96/sqrt(33) = {1.96 / math.sqrt(33):.4f} and a^2 > h^2/2"
    assert r.text(unicode=True) == "|a| > 1.96/\u221a33 and a\u00b2 > h\u00b2/2"
    assert FlagRule(0.42, 1.96, 36, False).text(unicode=True) == "|a| \u2265 0.42"
    assert FlagRule(0.42, 1.96, 36, True, manual=True).text() == "manual"
    assert FlagRule(None, 2.575, 36, False).cut == pytest.approx(2.575 / 6)
    assert Options(threshold=0.42).flag_rule_of(36).text() == "|a| >= 0.42 and a^2 > h^2/2"


def test_an_unknown_flavor_is_one_clear_error():
    with pytest.raises(QInputError, match="unknown flavor 'nosuch'; choose one of qmethod"):
        resolve_options("nosuch")
    with pytest.raises(QInputError, match="unknown flavor"):
        resolve_options("nosuch", threshold=0.4)


def test_rotation_argument_defaults_are_the_r_functions_defaults():
    """The defaults R uses when qmethod passes no argument: GPArotation 2022.10-2 ``geominT/geominQ(delta = .01)``,
    ``oblimin(gam = 0)``, ``GPForth/GPFoblq(eps = 1e-5, maxit = 1000, normalize = FALSE)``, ``stats::promax(m = 4)``
    (psych::principal forwards none of them)."""
    o = Options()
    assert (o.rotation_delta, o.rotation_gam, o.rotation_k) == (0.01, 0.0, None)
    assert (o.gpa_eps, o.gpa_max_iter, o.gpa_normalize, o.promax_m) == (1e-5, 1000, False, 4.0)
