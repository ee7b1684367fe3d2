"""Models built from gpucnn.nn: being written."""
