"""Dropout layers: active in train(), the identity in eval()."""
from . import functional as F
from .functional.dropout import _probability
from .module import Module


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p = _probability(type(self).__name__, p)
        self.inplace = bool(inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    def forward(self, x):
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    def forward(self, x):
        return F.dropout2d(x, self.p, self.training, self.inplace)
