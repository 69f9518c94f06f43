"""Linear state-space sequence layers (SSMs), computed three ways.

A single-input single-output SSM x_{t+1} = A x_t + B u_t, y_t = C x_t + D u_t with state size N maps an
input sequence u to y = k * u, a causal convolution with the kernel k_0 = D, k_t = C A^{t-1} B. Its
transfer function is a ratio of polynomials in z^{-1} of degree N,

    H(z) = D + (c_1 z^{-1} + … + c_N z^{-N}) / (1 + a_1 z^{-1} + … + a_N z^{-N}),

and in companion form (A with first row −a and ones below the diagonal, B = e_1) the numerator
coefficients are C itself. Three ways to run the layer on a length-L input:

- :func:`recurrent_scan` — the recurrence, step by step (the definition; O(N L) work in L sequential
  steps).
- :func:`vandermonde_kernel` — the kernel from the poles p_n and residues r_n, k_t = Σ_n r_n p_n^{t-1},
  as in diagonal SSMs (S4D): time and memory O(N L).
- :func:`rtf_kernel` — the rational-transfer-function route (Parnichkun et al., 2024): evaluate
  numerator and denominator at roots of unity with two FFTs and divide. O(L log L) whatever N (N < L).

Every function is batched over a leading channel axis H: ``a`` and ``c`` are (H, N), ``d`` is (H,),
sequences are (H, L).
"""

from __future__ import annotations

import torch


def _check(a: torch.Tensor, c: torch.Tensor, d: torch.Tensor) -> None:
    if a.ndim != 2 or c.shape != a.shape or d.shape != a.shape[:1]:
        raise ValueError(f"need a and c of shape (H, N) and d of shape (H,), got {tuple(a.shape)}, "
                         f"{tuple(c.shape)}, {tuple(d.shape)}")


def stable_denominator(poles: torch.Tensor) -> torch.Tensor:
    """Coefficients a_1 … a_N of Π_n (1 − p_n z^{-1}) from poles (H, N) closed under conjugation: (H, N)."""
    coef = torch.ones(poles.shape[0], 1, dtype=poles.dtype)
    for n in range(poles.shape[1]):
        shifted = torch.nn.functional.pad(coef, (0, 1))
        coef = shifted - poles[:, n:n + 1] * torch.nn.functional.pad(coef, (1, 0))
    return coef[:, 1:].real.to(torch.float64)


def companion(a: torch.Tensor) -> torch.Tensor:
    """The companion state matrices (H, N, N) whose characteristic polynomial has coefficients a."""
    h, n = a.shape
    mat = torch.zeros(h, n, n, dtype=a.dtype)
    mat[:, 0, :] = -a
    mat[:, torch.arange(1, n), torch.arange(n - 1)] = 1.0
    return mat


def recurrent_scan(a: torch.Tensor, c: torch.Tensor, d: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """Run the companion-form SSM (a, c, d) over inputs u (H, L) step by step: outputs (H, L)."""
    _check(a, c, d)
    state = torch.zeros(a.shape, dtype=torch.result_type(a, u))
    out = []
    for t in range(u.shape[1]):  # one O(N) companion step per time step: shift down, new first entry
        out.append((c * state).sum(-1) + d * u[:, t])
        first = u[:, t] - (a * state).sum(-1)
        state = torch.cat([first.unsqueeze(-1), state[:, :-1]], 1)
    return torch.stack(out, 1)


def poles_and_residues(a: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Poles p_n (roots of the denominator) and residues r_n with H(z) − D = Σ_n r_n / (z − p_n)."""
    poles = torch.linalg.eigvals(companion(a))  # (H, N) complex
    n = a.shape[1]
    powers = poles.unsqueeze(-1) ** torch.arange(n - 1, -1, -1)  # p^{N-1} … p^0
    numerator = (c.to(poles.dtype).unsqueeze(1) * powers).sum(-1)  # c_1 p^{N-1} + … + c_N
    others = poles.unsqueeze(-1) - poles.unsqueeze(-2)
    others = others + torch.eye(n, dtype=poles.dtype)  # the n = m factor replaced by 1
    return poles, numerator / others.prod(-1)


def vandermonde_kernel(poles: torch.Tensor, residues: torch.Tensor, d: torch.Tensor, length: int) -> torch.Tensor:
    """The kernel k_0 = D, k_t = Re Σ_n r_n p_n^{t-1} (t < length) from an (H, N, length) Vandermonde matrix."""
    if length < 1:
        raise ValueError(f"length must be positive, got {length}")
    steps = torch.arange(length - 1, dtype=poles.real.dtype, device=poles.device)
    vandermonde = torch.exp(torch.log(poles).unsqueeze(-1) * steps)
    taps = torch.einsum("hn,hnl->hl", residues, vandermonde).real
    return torch.cat([d.unsqueeze(-1).to(taps.dtype), taps], 1)


def rtf_numerator(a: torch.Tensor, c: torch.Tensor, length: int) -> torch.Tensor:
    """The numerator an RTF layer stores for the SSM (a, c): c (I − A^{2·length}).

    :func:`rtf_kernel` evaluates the transfer function at the 2L-th roots of unity, which sums the
    impulse response over all taps congruent modulo 2L; with this numerator the taps beyond 2L cancel
    (a telescoping sum) and the first L taps come out exactly. A layer that learns its numerator
    directly never needs this conversion.
    """
    _check(a, c, torch.zeros(a.shape[0], dtype=a.dtype))
    row = c.clone()  # c A^t, one O(N) companion step at a time (repeated squaring loses accuracy here)
    for _ in range(2 * length):
        first = row[:, :1]
        row = torch.nn.functional.pad(row[:, 1:], (0, 1)) - first * a
    return c - row


def rtf_kernel(a: torch.Tensor, numerator: torch.Tensor, d: torch.Tensor, length: int) -> torch.Tensor:
    """The first ``length`` taps of the kernel from the transfer function's coefficients, by FFT.

    Numerator and denominator polynomials, zero-padded to 2L, go through one real FFT each; their ratio
    is the kernel's spectrum at the 2L-th roots of unity and an inverse FFT returns the taps. Nothing of
    size N × L is ever formed: the cost is that of three FFTs of length 2L, whatever the state size N.
    """
    _check(a, numerator, d)
    if not a.shape[1] < 2 * length:
        raise ValueError(f"the state size {a.shape[1]} must be below twice the length {length}")
    size = 2 * length
    den = torch.nn.functional.pad(torch.cat([torch.ones_like(a[:, :1]), a], 1), (0, size - a.shape[1] - 1))
    num = torch.nn.functional.pad(torch.cat([torch.zeros_like(a[:, :1]), numerator], 1),
                                  (0, size - a.shape[1] - 1))
    taps = torch.fft.irfft(torch.fft.rfft(num) / torch.fft.rfft(den), n=size)[:, :length]
    taps[:, 0] = d  # the 0-th slot holds the tap 2L, aliased; the direct term is D
    return taps


def causal_conv(u: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """y_t = Σ_{s ≤ t} k_s u_{t−s} along the last axis, by zero-padded FFTs of length 2L. ``u`` and
    ``kernel`` share the length L; their leading axes broadcast (e.g. a batch of (H, L) inputs, one kernel)."""
    if u.shape[-1] != kernel.shape[-1]:
        raise ValueError(f"input {tuple(u.shape)} and kernel {tuple(kernel.shape)} must have the same length")
    size = 2 * u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u, n=size) * torch.fft.rfft(kernel, n=size), n=size)[..., :u.shape[-1]]


def random_stable_ssm(channels: int, state: int, *,
                      generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float64
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A random real SSM per channel, (a, c, d), drawn as the RTF authors initialise a
    layer ("montel"): denominator and numerator coefficients uniform in (−1/N, 1/N),
    direct term N(0, 1).

    Every |a_n| < 1/N, so ‖a‖₁ < 1 and, by Montel's bound, every pole lies strictly
    inside the unit disk: the layer is stable at every state size and in any precision
    the coefficients are stored in (no poles are multiplied out into coefficients, which
    is ill-conditioned for large N). The poles of such random polynomials sit near the
    circle of radius ≈ 1 − 4/N, so the kernel decays over roughly N/4 taps."""
    if state < 1:
        raise ValueError(f"the state size must be positive, got {state}")

    def uniform(*shape):
        noise = torch.rand(*shape, generator=generator, dtype=torch.float64)
        return (2 * noise - 1) / state

    a, c = uniform(channels, state), uniform(channels, state)
    d = torch.randn(channels, generator=generator, dtype=torch.float64)
    return a.to(dtype), c.to(dtype), d.to(dtype)


def random_s4d(channels: int, state: int, *, generator: torch.Generator | None = None,
               radius: tuple[float, float] = (0.9, 0.999)
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A random diagonal (S4D-style) layer as an S4D layer stores it: N complex poles
    with moduli uniform in ``radius`` and uniform angles in [0, π), complex residues
    with N(0, 1/N) parts, direct term N(0, 1). Returns (poles, residues, d) for
    :func:`vandermonde_kernel`."""
    if state < 1:
        raise ValueError(f"the state size must be positive, got {state}")
    shape = (channels, state)
    r = torch.rand(*shape, generator=generator, dtype=torch.float64)
    r = radius[0] + (radius[1] - radius[0]) * r
    angle = torch.pi * torch.rand(*shape, generator=generator, dtype=torch.float64)
    parts = torch.randn(2, *shape, generator=generator, dtype=torch.float64)
    residues = torch.complex(parts[0], parts[1]) / state**0.5
    d = torch.randn(channels, generator=generator, dtype=torch.float64)
    return r * torch.exp(1j * angle), residues, d


def layer_output_shape(method: str, channels: int, state: int, length: int, seed: int) -> tuple[int, ...]:
    """Run one random layer by ``method`` ("rtf" or "vandermonde") on a random input and return the output
    shape: a module-level entry point for measuring each method's memory in a fresh process
    (:func:`replib.timing.peak_memory`)."""
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(channels, length, generator=g, dtype=torch.float64)
    if method == "rtf":
        kernel = rtf_kernel(*random_stable_ssm(channels, state, generator=g), length)
    elif method == "vandermonde":
        kernel = vandermonde_kernel(*random_s4d(channels, state, generator=g), length)
    else:
        raise ValueError(f"method must be 'rtf' or 'vandermonde', got {method!r}")
    return tuple(causal_conv(u, kernel).shape)
