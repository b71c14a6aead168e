"""C kernels by op family; importing this package registers them on ``c_kernel``."""
