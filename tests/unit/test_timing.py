import time

import numpy as np
import pytest

from replib.timing import peak_memory, side_by_side


def test_side_by_side_times_every_function_repeatedly_and_interleaved():
    calls = []
    out = side_by_side({"fast": lambda: calls.append("f"), "slow": lambda: (calls.append("s"), time.sleep(0.01))},
                       repeat=3, warmup=1)
    assert calls == ["f", "s"] * 4
    assert len(out["fast"].times) == 3 and out["slow"].best >= 0.01 > out["fast"].best
    with pytest.raises(ValueError):
        side_by_side({}, repeat=1)


def test_side_by_side_accepts_sweep_keys_and_a_progress_bar():
    out = side_by_side({("a", n): (lambda n=n: sum(range(n))) for n in (10, 1000)}, repeat=2, desc="rounds")
    assert set(out) == {("a", 10), ("a", 1000)} and all(len(t.times) == 2 for t in out.values())


def allocate(mib):
    return float(np.ones(mib * 2**20 // 8).sum())


def test_peak_memory_sees_a_large_allocation_and_returns_the_result():
    seconds, mib, result = peak_memory(allocate, 64)
    assert 60 < mib < 200 and seconds >= 0 and result == 64 * 2**20 // 8


def test_peak_memory_reports_failures():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        peak_memory(divmod, 1, 0)
