from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as learnable: requires_grad by default."""

    def __init__(self, data, device=None, requires_grad=True):
        super().__init__(data, device=device, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
