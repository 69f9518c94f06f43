"""Measure implementations side by side in one run, and their peak memory.

These machines are shared and noisy: absolute times differ between runs by up to ~1.7×, so compare only
implementations timed in the same run, interleaved, and report ratios.
"""

from __future__ import annotations

import multiprocessing as mp
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Hashable

from replib.runtime import progress


@dataclass(frozen=True)
class Timing:
    """Repeated wall-clock times of one implementation, in seconds."""

    times: tuple[float, ...]

    @property
    def best(self) -> float:
        return min(self.times)

    @property
    def median(self) -> float:
        return statistics.median(self.times)


def side_by_side(fns: dict[Hashable, Callable[[], Any]], *, repeat: int = 5, warmup: int = 1,
                 desc: str | None = None) -> dict[Hashable, Timing]:
    """Time each zero-argument callable ``repeat`` times, interleaving them round-robin so that machine
    noise hits every implementation alike (key them by anything hashable, e.g. (method, size) to interleave
    a whole sweep). ``warmup`` untimed rounds run first (JIT compilation, caches).
    A callable should block until its result is ready (e.g. ``.block_until_ready()`` for JAX). With a
    ``desc``, a progress bar counts the rounds."""
    if not fns or repeat < 1 or warmup < 0:
        raise ValueError("need at least one function, repeat >= 1 and warmup >= 0")
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[Hashable, list[float]] = {name: [] for name in fns}
    rounds = range(repeat) if desc is None else progress(range(repeat), desc=desc)
    for _ in rounds:
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: Timing(tuple(t)) for name, t in times.items()}


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _measure_in_child(fn: Callable[..., Any], args: tuple, queue) -> None:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # reset the peak-RSS counter (VmHWM)
        base = _status_kib("VmRSS")
        start = time.perf_counter()
        result = fn(*args)
        seconds = time.perf_counter() - start
        queue.put((seconds, (_status_kib("VmHWM") - base) / 1024, result, None))
    except BaseException as err:  # report, don't hang the parent
        queue.put((None, None, None, f"{type(err).__name__}: {err}"))


def peak_memory(fn: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """Run ``fn(*args)`` once in a fresh Python process; return (seconds, peak resident memory it added
    in MiB, its result). ``fn`` must be importable (a module-level function) and the result picklable.

    A fresh ("spawn") process, not a fork: a forked copy of a process whose torch/OpenMP thread pool is
    running can deadlock. Memory is counted from after the child's imports (Linux only).
    """
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    child = ctx.Process(target=_measure_in_child, args=(fn, args, queue))
    child.start()
    seconds, mib, result, error = queue.get()
    child.join()
    if error:
        raise RuntimeError(f"the measured function failed in the child process: {error}")
    return seconds, mib, result
