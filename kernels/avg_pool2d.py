"""Average and adaptive pooling kernels: being written."""
VERSIONS = (1,)
DEFAULT_VERSION = 1

OPS = {}
