"""Every random analysis runs through one ``concurrent.futures.Executor`` argument (qvalid.chunks.run_chunks) and
gives the same bytes wherever its chunks run: here, on a process pool, or on a dask.distributed LocalCluster."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from qvalid import bootstrap
from qvalid.checks.recovery import recover
from qvalid.chunks import chunk_sizes, run_chunks, seeds
from qvalid.datasets import load_lipset, nav_grid
from qvalid.factors import null_eigenvalues
from qvalid.simulate import planted_loadings, simulate_studies


def _square(x):
    return x * x


def test_chunks_and_seeds():
    assert chunk_sizes(600, 250) == [250, 250, 100] and chunk_sizes(250, 250) == [250] and chunk_sizes(0, 5) == []
    a, b = seeds(7, 2), seeds(np.random.SeedSequence(7), 2)
    assert [s.generate_state(2).tolist() for s in a] == [s.generate_state(2).tolist() for s in b]
    assert a[0].generate_state(1)[0] != a[1].generate_state(1)[0]
    assert run_chunks(_square, [3, 1, 2]) == [9, 1, 4]


class _Cancelling:
    """An executor whose second result raises KeyboardInterrupt: run_chunks must cancel what is left."""

    def __init__(self):
        self.futures = []

    def submit(self, fn, *args):
        arg = args[-1]

        class F:
            cancelled = False

            def result(self_inner):
                if arg == 2:
                    raise KeyboardInterrupt
                return fn(*args)

            def cancel(self_inner):
                self_inner.cancelled = True
                return True
        f = F()
        self.futures.append(f)
        return f


def test_chunk_results_ship_small_whole_numbers_as_int8_and_come_back_the_same():
    """pack_codes is lossless or leaves the array alone: whole numbers in -127..127 and numpy's NaN become int8
    codes; -0.0, fractions, big values, infinities and NaN of other bits stay float64."""
    from qvalid.chunks import Codes, pack_codes, unpack_codes

    a = np.array([[0.0, 1.0, np.nan], [-6.0, 127.0, -127.0]])
    packed = pack_codes(a)
    assert isinstance(packed, Codes) and packed.codes.dtype == np.int8
    back = unpack_codes(pickle.loads(pickle.dumps(packed)))
    assert back.dtype == np.float64 and back.tobytes() == a.tobytes()
    neg_nan = np.array([1.0, -np.nan])
    for keep in (np.array([0.5, 1.0]), np.array([128.0]), np.array([-128.0]), np.array([1e300]), np.array([-0.0, 1.0]), np.array([np.inf]), neg_nan,
                 np.array([1, 2]), np.zeros(0)):
        assert pack_codes(keep) is keep
    assert unpack_codes(a) is a
    assert np.signbit(neg_nan[1])  # (a NaN with its sign bit set stays as it is)
    with ProcessPoolExecutor(1) as ex:
        there = run_chunks(_dict_chunk, [1, 2], executor=ex)
    assert _canon(there) == _canon(run_chunks(_dict_chunk, [1, 2]))


def _dict_chunk(n):
    return {"small": np.array([float(n), np.nan]), "big": np.array([0.25 * n]), "n": n}


def test_progress_is_a_bar_on_stderr_only_when_asked(capfd):
    assert run_chunks(_square, [1, 2, 3], progress=True, desc="squares") == [1, 4, 9]
    err = capfd.readouterr().err
    assert "squares:" in err and "0/3" in err  # the bar (leave=False: cleared when done)
    run_chunks(_square, [1, 2, 3])
    assert capfd.readouterr().err == ""


def test_an_interrupt_cancels_the_chunks_not_yet_run():
    ex = _Cancelling()
    with pytest.raises(KeyboardInterrupt):
        run_chunks(_square, [1, 2, 3, 4], executor=ex)
    assert [f.cancelled for f in ex.futures] == [True, True, True, True]


def _all(executor):
    lip = load_lipset()
    boot = bootstrap(lip, 2, 300, seed=11, executor=executor)  # two chunks of the default size (250 + 50)
    small = bootstrap(lip, 2, 120, seed=11, executor=executor, chunk_size=50, parametric=True)  # 50 + 50 + 20
    null = null_eigenvalues(lip.scores, 300, seed=5, executor=executor, centroid_factors=2)
    sim = simulate_studies(planted_loadings([3, 3], strength=0.7), nav_grid(), 60, seed=3, chunk_size=25,
                           executor=executor)
    rec = recover(sim, 2, executor=executor, chunk_size=25)
    return _canon((boot.raw, boot.parametric, small.raw, small.parametric, null.eigenvalues, null.centroid,
                   sim.scores, rec.studies.to_dict()))


def _canon(x):
    """Bytes of every array (dtype, shape, data; object arrays by value), recursively: pickle's own bytes also
    depend on which equal strings are the same object, which differs between results made here and unpickled ones."""
    if isinstance(x, dict):
        return tuple((k, _canon(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return tuple(_canon(v) for v in x)
    if isinstance(x, np.ndarray):
        return (x.dtype.str, x.shape, repr(x.tolist()) if x.dtype == object else x.tobytes())
    return repr(x)


@pytest.fixture(scope="module")
def serial():
    return _all(None)


def test_chunk_size_is_part_of_the_result_and_checked():
    """The chunks' seeds make the result: another chunk size, other (equally valid) replicates; a bad size is one
    clear error."""
    from qvalid import QInputError

    lip = load_lipset()
    a = bootstrap(lip, 2, 60, seed=4, chunk_size=30, parametric=False)
    b = bootstrap(lip, 2, 60, seed=4, chunk_size=60, parametric=False)
    again = bootstrap(lip, 2, 60, seed=4, chunk_size=30, parametric=False)
    assert pickle.dumps(a.raw) == pickle.dumps(again.raw) and pickle.dumps(a.raw) != pickle.dumps(b.raw)
    for bad in (0, 2.5, True):
        with pytest.raises(QInputError, match="chunk_size"):
            bootstrap(lip, 2, 10, seed=4, chunk_size=bad, parametric=False)


def test_a_process_pool_gives_the_same_bytes(serial):
    with ProcessPoolExecutor(2) as ex:
        assert _all(ex) == serial


def test_a_dask_cluster_gives_the_same_bytes(serial):
    import distributed  # Debian python3-distributed, installed by scripts/setup.sh (a failure, not a skip, without it)

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=50) as cluster, distributed.Client(cluster) as client:
        assert _all(client.get_executor()) == serial
