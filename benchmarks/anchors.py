"""The anchors replib is measured against: google/neural-tangents (JAX) and scikit-learn.

neural-tangents 0.6.5 needs an old JAX and numpy < 2, so it lives only in the separate benchmark
environment (``bash tools/bench``); everything here returns None when it is not installed.
"""

from __future__ import annotations

import numpy as np

try:
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import neural_tangents as nt
    from neural_tangents import stax
except ImportError:  # the book's own environment
    nt = None

SKIP = "neural-tangents not installed: run `bash tools/bench` for the comparison"


def nt_analytic_kernel_fn(depth: int, activation: str, weight_var: float, bias_var: float):
    """Jitted stax kernel_fn of the same network as replib.kernels.MLPKernel, returning (nngp, ntk)."""
    act = {"relu": stax.Relu, "erf": stax.Erf}[activation]
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(1, W_std=weight_var**0.5, b_std=bias_var**0.5), act()]
    _, _, kernel_fn = stax.serial(*layers, stax.Dense(1, W_std=weight_var**0.5, b_std=bias_var**0.5))
    jitted = jax.jit(kernel_fn, static_argnames="get")

    def run(x: np.ndarray):
        k = jitted(jnp.asarray(x, dtype=jnp.float64), None, ("nngp", "ntk"))
        return k[0].block_until_ready(), k[1].block_until_ready()

    return run


def nt_empirical_ntk_fns(weights: list[np.ndarray], biases: list[np.ndarray], weight_var: float):
    """neural-tangents' empirical NTK of a one-hidden-layer ReLU MLP with the given (NTK-parametrised)
    weights, one callable per implementation strategy."""
    width = weights[0].shape[1]
    _, apply_fn, _ = stax.serial(stax.Dense(width, W_std=weight_var**0.5, b_std=0.0), stax.Relu(),
                                 stax.Dense(1, W_std=weight_var**0.5, b_std=0.0))
    params = [(jnp.asarray(weights[0]), jnp.asarray(biases[0])), (), (jnp.asarray(weights[1]), jnp.asarray(biases[1]))]
    fns = {}
    for impl in (nt.NtkImplementation.JACOBIAN_CONTRACTION, nt.NtkImplementation.NTK_VECTOR_PRODUCTS,
                 nt.NtkImplementation.STRUCTURED_DERIVATIVES):
        fn = jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(-1,), vmap_axes=0, implementation=impl))
        fns[impl.name.lower()] = (lambda f: lambda x: f(jnp.asarray(x), None, params).block_until_ready())(fn)
    return fns
