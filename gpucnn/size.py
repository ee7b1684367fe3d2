"""`gpucnn.Size`: a tensor's shape, a tuple of ints, as torch.Size."""
import math


class Size(tuple):
    def __repr__(self):
        return f"gpucnn.Size({list(self)})"

    def __str__(self):   # error messages read "(4, 8, 8)"
        return tuple.__repr__(self)

    def numel(self) -> int:
        return math.prod(self)

    def __getitem__(self, item):
        result = super().__getitem__(item)
        return Size(result) if isinstance(item, slice) else result
