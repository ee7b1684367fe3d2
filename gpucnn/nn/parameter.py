from ..devices import resolve as resolve_device
from ..tensor import Tensor


class Parameter(Tensor):
    """A tensor that a Module registers as learnable: requires_grad by default.

    Made from a Tensor, it shares the tensor's storage (as torch.nn.Parameter does); made
    from other data (a NumPy array, a list), it holds a copy, as gpucnn.tensor would."""

    def __init__(self, data, device=None, requires_grad=True):
        if isinstance(data, Tensor):
            if device is not None and resolve_device(device) != data.device:
                data = data.to(device)
            if not data.is_contiguous():   # the optimizers update parameters as flat arrays
                data = data.contiguous()
            self._init(data._array, data.device, requires_grad, None, data._version)
        else:
            super().__init__(data, device=device, requires_grad=requires_grad)

    def __deepcopy__(self, memo):
        # PyTorch's: a new Parameter around a copy of the data, requires_grad kept, the
        # gradient not (a plain tensor's deepcopy keeps it).
        if id(self) not in memo:
            memo[id(self)] = Parameter(self.detach().clone(), requires_grad=self.requires_grad)
        return memo[id(self)]

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()
