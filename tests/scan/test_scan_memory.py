"""Acceptance 3 (issue 5): when only ``result[-1]`` is read, a scan's memory does not grow with n_steps.

The seed's A**k reads only the last step; the ``scan_keep_last_rows`` rewrite
makes the loop keep ``lag + 1`` rows in a circular buffer.  Peak memory is
measured with tracemalloc (NumPy reports its buffers to it) around one call,
on whichever backend ``THEANOLAB_FLAGS`` picks (the test command runs both).
"""

import tracemalloc

import numpy as np

import theanolab
import theanolab.tensor as T
from theanolab.compile.mode import get_mode

ROW = 64  # float64 elements per step: a full buffer of n steps is n * 512 bytes
SLACK = 1 << 20  # what the interpreter may allocate around a call, whatever n_steps is


def power_function(mode=None):
    k, A = T.iscalar("k"), T.dvector("A")
    result, updates = theanolab.scan(lambda prior, A: prior * A, outputs_info=T.ones_like(A), non_sequences=A,
                                     n_steps=k)
    return theanolab.function([A, k], result[-1], updates=updates, mode=mode)


def peak_bytes(f, *values):
    f(*values)  # a first call compiles and caches what it needs
    tracemalloc.start()
    try:
        value = f(*values)
        return tracemalloc.get_traced_memory()[1], value
    finally:
        tracemalloc.stop()


def test_last_step_of_a_long_scan_takes_constant_memory():
    f = power_function()
    A = np.full(ROW, 1.0 - 1e-6)
    short, short_value = peak_bytes(f, A, 10)
    long, long_value = peak_bytes(f, A, 100_000)
    np.testing.assert_allclose(short_value, A ** 10)
    np.testing.assert_allclose(long_value, A ** 100_000)
    full_buffer = 100_000 * ROW * 8
    assert long - short < SLACK, (f"peak {long} bytes for 100,000 steps vs {short} for 10: the loop stores "
                                  f"its steps (all of them would be {full_buffer} bytes)")


def test_the_measure_sees_a_loop_that_stores_every_step():
    """Without the rule, the same loop's peak grows by its n_steps rows: the measure can fail."""
    f = power_function(get_mode("FAST_RUN").excluding("scan_keep_last_rows"))
    A = np.full(ROW, 1.0)
    short, _ = peak_bytes(f, A, 10)
    long, _ = peak_bytes(f, A, 10_000)
    assert long - short > 10_000 * ROW * 8 * 0.9
