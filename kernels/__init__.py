"""C and CUDA kernel templates, shipped as package data (see kernels/README.md)."""
