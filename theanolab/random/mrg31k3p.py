"""The MRG31k3p generator (L'Ecuyer and Touzin, 2000) in NumPy: the arithmetic every backend repeats.

State layout (shared by the reference, C and a later CUDA kernel): an int32
matrix of shape ``(n_streams, 6)``; row ``j`` is stream ``j``'s state
``[x11, x12, x13, x21, x22, x23]`` (the first three for the modulus ``M1``
component, most recent first, the last three for ``M2``), C-contiguous so a
GPU thread reads its 24 bytes at once.  Sample ``i`` of a draw comes from
stream ``i % n_streams``, which advances by one step per sample it gives; so
every backend produces the same numbers whatever its parallelism, as long as
it follows this assignment.  Stream ``j + 1`` starts ``2**72`` steps after
stream ``j`` (:func:`substreams`), and after each draw's streams are made, the
seed jumps ``2**134`` steps (:func:`jump_2p134`) for the next variable:
Theano 1.0's ``MRG_RandomStreams`` did exactly this, so its seeds give the
same numbers here.

Every intermediate value of a step is below ``2**32``, so the step is exact
in int64 (here) or uint32/int64 (C) arithmetic with ``if (y >= M) y -= M``.

>>> state = np.full((1, 6), 12345, dtype=np.int32)
>>> float(uniform_samples(state, 1, "float64")[0])
0.7353244530968368
"""

from __future__ import annotations

import numpy as np

__all__ = ["M1", "M2", "NORM", "validated_seed", "step", "uniform_samples", "substreams", "jump_2p134",
           "A1P72", "A2P72", "A1P134", "A2P134"]

M1 = 2147483647  # 2**31 - 1
M2 = 2147462579  # 2**31 - 21069
MASK12, MASK13, MASK2, MULT2 = 511, 16777215, 65535, 21069
NORM = 4.656612873077392578125e-10  # 1 / 2**31

#: The transition matrices raised to 2**72 (between the streams of one draw) and 2**134 (between draws).
A1P72 = np.array([[1516919229, 758510237, 499121365], [1884998244, 1516919229, 335398200],
                  [601897748, 1884998244, 358115744]], dtype=np.int64)
A2P72 = np.array([[1228857673, 1496414766, 954677935], [1133297478, 1407477216, 1496414766],
                  [2002613992, 1639496704, 1407477216]], dtype=np.int64)
A1P134 = np.array([[1702500920, 1849582496, 1656874625], [828554832, 1702500920, 1512419905],
                   [1143731069, 828554832, 102237247]], dtype=np.int64)
A2P134 = np.array([[796789021, 1464208080, 607337906], [1241679051, 1431130166, 1464208080],
                   [1401213391, 1178684362, 1431130166]], dtype=np.int64)


def validated_seed(seed):
    """The 6-int32 start state a seed stands for: an int (repeated 6 times) or 6 ints, checked."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        if seed <= 0 or seed >= M2:
            raise ValueError(f"an MRG seed must be an integer in [1, {M2 - 1}] or 6 integers, got {seed}")
        return np.full(6, seed, dtype=np.int32)
    try:
        if isinstance(seed, (str, bytes)):
            raise TypeError
        values = [int(v) for v in seed]
    except (TypeError, ValueError):
        raise TypeError(f"an MRG seed must be 1 integer or 6 integers, got {seed!r}") from None
    if len(values) != 6:
        raise TypeError(f"an MRG seed must be 1 integer or 6 integers, got {len(values)} values")
    for part, modulus in ((values[:3], M1), (values[3:], M2)):
        if not any(part) or min(part) < 0 or max(part) >= modulus:
            raise ValueError(f"in an MRG seed, each group of 3 values must lie in [0, {modulus - 1}] and "
                             f"not be all 0; got {values}")
    return np.array(values, dtype=np.int32)


def _reduce(y, modulus):
    return np.where(y >= modulus, y - modulus, y)


def step(state):
    """Advance each row of the int64 ``(n, 6)`` ``state`` one step in place; return the int64 ``x11 - x21``."""
    x11, x12, x13, x21, x22, x23 = state.T
    y1 = ((x12 & MASK12) << 22) + (x12 >> 9) + ((x13 & MASK13) << 7) + (x13 >> 24)
    y1 = _reduce(_reduce(y1, M1) + x13, M1)
    z1 = _reduce(((x21 & MASK2) << 15) + MULT2 * (x21 >> 16), M2)
    z2 = _reduce(((x23 & MASK2) << 15) + MULT2 * (x23 >> 16), M2)
    z2 = _reduce(_reduce(z2 + x23, M2) + z1, M2)
    state[:, 2], state[:, 1], state[:, 0] = x12, x11, y1
    state[:, 5], state[:, 4], state[:, 3] = x22, x21, z2
    return y1 - z2


def _to_unit(difference, dtype):
    """The sample of ``x11 - x21``: in (0, 1], as float64 exactly, as float32 with float32 arithmetic."""
    numerator = np.where(difference <= 0, difference + M1, difference)
    if dtype == "float32":
        return numerator.astype(np.float32) * np.float32(4.6566126e-10)
    return numerator.astype(np.float64) * NORM


def uniform_samples(state, n, dtype):
    """``n`` uniform samples of ``dtype`` drawn from the int32 ``state`` matrix, updated in place."""
    n_streams = state.shape[0]
    work = state.astype(np.int64)
    out = np.empty(n, dtype=dtype)
    for start in range(0, n, n_streams):
        active = min(n_streams, n - start)
        rows = work[:active]
        out[start:start + active] = _to_unit(step(rows), dtype)
        work[:active] = rows
    state[...] = work.astype(np.int32)
    return out


def _mat_vec_mod(matrix, vectors, modulus):
    """``matrix @ v mod modulus`` for each row ``v`` of ``vectors`` (int64, no overflow: terms < 2**62)."""
    terms = (vectors[:, None, :] * matrix[None, :, :]) % modulus
    return terms.sum(axis=2) % modulus


def _mat_mat_mod(a, b, modulus):
    rows = [_mat_vec_mod(a, b.T[c:c + 1], modulus)[0] for c in range(3)]
    return np.array(rows, dtype=np.int64).T


def _jump(rows, a1, a2):
    return np.concatenate([_mat_vec_mod(a1, rows[:, :3], M1), _mat_vec_mod(a2, rows[:, 3:], M2)], axis=1)


def substreams(seed_state, n_streams):
    """``(n_streams, 6)`` int32 states, row 0 ``seed_state``, each row ``2**72`` steps after the previous.

    Built by doubling (rows ``[k, 2k)`` are rows ``[0, k)`` jumped ``k * 2**72``
    steps), so 15360 streams take a dozen vectorized products.
    """
    if n_streams < 1:
        raise ValueError(f"an MRG draw needs at least one stream, got n_streams={n_streams}")
    rows = np.asarray(seed_state, dtype=np.int64).reshape(1, 6)
    a1, a2 = A1P72, A2P72
    while rows.shape[0] < n_streams:
        rows = np.concatenate([rows, _jump(rows, a1, a2)])
        a1, a2 = _mat_mat_mod(a1, a1, M1), _mat_mat_mod(a2, a2, M2)
    return rows[:n_streams].astype(np.int32)


def jump_2p134(seed_state):
    """``seed_state`` advanced ``2**134`` steps: where the next random variable's streams start."""
    return _jump(np.asarray(seed_state, dtype=np.int64).reshape(1, 6), A1P134, A2P134)[0].astype(np.int32)
