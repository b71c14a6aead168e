"""The layout of a Scan node: which of its inputs and outputs play which role.

A Scan node has an *outer* side (the node's inputs and outputs in the
user's graph) and an *inner* side (the inputs and outputs of its inner
FunctionGraph, the body of the loop).  Every list is grouped by role, in a
fixed order, and :class:`ScanInfo` (a few counts and the taps) says where
each group starts.

Outer inputs::

    n_steps | sequences | initial buffers | shared variables | non-sequences

Inner inputs (what step ``t`` reads)::

    sequences[t] | state taps s[t+k] (state by state) | shared values | non-sequences

Inner outputs (what step ``t`` computes)::

    new states s[t] | per-step outputs y[t] | new shared values | until-condition (optional)

Outer outputs::

    state buffers (lag + n_steps rows) | per-step outputs (n_steps rows) | final shared values

A *state* (Theano's sit_sot / mit_sot) has negative taps; its ``lag`` is the
deepest one (``-min(taps)``).  Its initial buffer holds ``lag`` rows (row
``i`` is the state at time ``i - lag``) and its outer output continues that
buffer: row ``lag + t`` is the state computed at step ``t``, so step ``t``
reads tap ``k`` at row ``lag + t + k``.  The user sees rows ``lag:``.

Kept rows (``kept_rows``, set by the ``scan_keep_last_rows`` rewrite)
---------------------------------------------------------------------
When only the last rows of a state buffer or of a per-step output are read
outside the loop (``result[-1]``), the node need not store the others.
``kept_rows`` then holds, per state and per-step output (in outer output
order), None (every row, the layout above) or ``K``: the output is only the
last ``min(K, full length)`` rows of what it would have been (row ``-1`` is
still the last step).  While the loop runs, such a buffer of ``K`` rows is
used circularly: the row of time ``i`` of the full buffer (``i = lag + t``
for a state, ``t`` for a per-step output) lives at row ``i % K``, so a
state needs ``K >= lag + 1`` (its taps and the row being written).  Memory
is then O(K), not O(n_steps).  ``None`` for the whole field: every output
keeps all its rows.

Reversed rows (``reversed_rows``, set by ``scan_pushout_accumulators``)
-----------------------------------------------------------------------
Per per-step output, False (the layout above: step ``t`` at row ``t``) or
True: step ``t`` is stored at row ``n_steps - 1 - t``, so the output lists
the steps last first.  A loop over sequences read backwards (``x[::-1]``,
as a backward scan reads the forward states) then gives per-step values in
the sequences' own (forward) order, and a product pairing them with the
sequences' rows after the loop reads both as contiguous views instead of
copying a reversed one.  Not for an ``until`` loop (its step count is not
known before it runs) nor an output with kept rows.  ``None`` for the whole
field: no output is reversed.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ScanInfo"]


@dataclass(frozen=True)
class ScanInfo:
    """Counts and taps that locate every role among a Scan node's inputs and outputs."""

    n_sequences: int
    #: per state, its taps in the order ``fn`` receives them (all negative).
    state_taps: tuple
    n_per_step: int
    n_shared: int
    n_non_sequences: int
    as_while: bool = False
    #: None, or per state and per-step output: None (all rows) or the number of last rows kept.
    kept_rows: tuple | None = None
    #: None, or per per-step output: True if step t is stored at row n_steps - 1 - t.
    reversed_rows: tuple | None = None

    def __post_init__(self):
        if self.reversed_rows is not None:
            if len(self.reversed_rows) != self.n_per_step:
                raise ValueError(f"reversed_rows {self.reversed_rows} needs one entry per per-step output "
                                 f"({self.n_per_step})")
            if any(self.reversed_rows) and self.as_while:
                raise ValueError("an until loop cannot store per-step outputs in reversed rows")
            if any(r and self.rows_kept(self.n_states + m) is not None for m, r in enumerate(self.reversed_rows)):
                raise ValueError(f"a per-step output cannot both keep rows and reverse them: kept_rows "
                                 f"{self.kept_rows}, reversed_rows {self.reversed_rows}")
        if self.kept_rows is not None:
            if len(self.kept_rows) != self.n_states + self.n_per_step:
                raise ValueError(f"kept_rows {self.kept_rows} needs one entry per state and per-step output "
                                 f"({self.n_states + self.n_per_step})")
            for j, (lag, kept) in enumerate(zip(self.lags, self.kept_rows)):
                if kept is not None and kept < lag + 1:
                    raise ValueError(f"state {j} (lag {lag}) must keep at least {lag + 1} rows, not {kept}")
            if any(k is not None and k < 1 for k in self.kept_rows[self.n_states:]):
                raise ValueError(f"a per-step output must keep at least one row: kept_rows {self.kept_rows}")

    def rows_kept(self, i):
        """Rows kept of outer output ``i`` (a state or per-step output): None when all of them."""
        return None if self.kept_rows is None else self.kept_rows[i]

    def is_reversed(self, m):
        """True if per-step output ``m`` stores step ``t`` at row ``n_steps - 1 - t``."""
        return self.reversed_rows is not None and bool(self.reversed_rows[m])

    # ------------------------------------------------------------------ counts

    @property
    def n_states(self):
        return len(self.state_taps)

    @property
    def lags(self):
        """Rows of initial values each state needs: its deepest tap."""
        return tuple(-min(taps) for taps in self.state_taps)

    @property
    def n_taps(self):
        return sum(len(taps) for taps in self.state_taps)

    # ------------------------------------------------------------------ outer inputs

    def split_outer_inputs(self, inputs):
        """``(n_steps, sequences, initial buffers, shared, non_sequences)``."""
        inputs = list(inputs)
        a = 1 + self.n_sequences
        b = a + self.n_states
        c = b + self.n_shared
        return inputs[0], inputs[1:a], inputs[a:b], inputs[b:c], inputs[c:]

    @property
    def n_outer_inputs(self):
        return 1 + self.n_sequences + self.n_states + self.n_shared + self.n_non_sequences

    # ------------------------------------------------------------------ inner inputs

    def split_inner_inputs(self, inputs):
        """``(sequences, taps as one list per state, shared, non_sequences)``."""
        inputs = list(inputs)
        sequences = inputs[:self.n_sequences]
        position = self.n_sequences
        taps = []
        for state_taps in self.state_taps:
            taps.append(inputs[position:position + len(state_taps)])
            position += len(state_taps)
        shared = inputs[position:position + self.n_shared]
        return sequences, taps, shared, inputs[position + self.n_shared:]

    def inner_input_sources(self):
        """For each inner input, the position of the outer input it is read from."""
        sources = [1 + i for i in range(self.n_sequences)]
        first_buffer = 1 + self.n_sequences
        for j, taps in enumerate(self.state_taps):
            sources += [first_buffer + j] * len(taps)
        first_shared = first_buffer + self.n_states
        sources += [first_shared + i for i in range(self.n_shared + self.n_non_sequences)]
        return sources

    # ------------------------------------------------------------------ outputs

    def split_inner_outputs(self, outputs):
        """``(new states, per-step outputs, new shared values, condition or None)``."""
        outputs = list(outputs)
        a = self.n_states
        b = a + self.n_per_step
        c = b + self.n_shared
        return outputs[:a], outputs[a:b], outputs[b:c], (outputs[c] if self.as_while else None)

    def split_outer_outputs(self, outputs):
        """``(state buffers, per-step outputs, final shared values)``."""
        outputs = list(outputs)
        a = self.n_states
        b = a + self.n_per_step
        return outputs[:a], outputs[a:b], outputs[b:]
