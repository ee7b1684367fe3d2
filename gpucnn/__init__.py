"""gpucnn: a readable CNN engine with hand-written numba.cuda kernels and @njit CPU twins."""
__version__ = "0.1.0"
