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


def test_peak_memory_sees_a_large_allocation():
    seconds, mib = peak_memory(lambda: np.ones(64 * 2**20 // 8).sum())  # 64 MiB
    assert 60 < mib < 200 and seconds >= 0


def test_peak_memory_reports_failures():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        peak_memory(lambda: 1 / 0)
