"""The CUDA backend: nodes with a GPU implementation run on an NVIDIA GPU through CuPy.

``THEANOLAB_FLAGS=device=cuda`` (or ``cuda0``, ``cuda1``) is the only change
a program needs: shared arrays live in GPU memory
(:mod:`~theanolab.backends.cuda.sharedvar`), the placement rewrite moves
every node that has a GPU implementation there and inserts the transfers
(:mod:`~theanolab.backends.cuda.placement`), and the nodes run the
implementations of :mod:`~theanolab.backends.cuda.impls` on a
:class:`~theanolab.backends.cuda.device.Device`.  Importing this package
imports no CuPy; choosing a GPU does.
"""
