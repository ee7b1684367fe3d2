"""gpucnn.nn.utils: being written."""
