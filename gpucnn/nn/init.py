"""gpucnn.nn.init: being written."""
