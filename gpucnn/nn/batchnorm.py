"""Batch normalization layers: BatchNorm1d, BatchNorm2d, SyncBatchNorm, and their base
_BatchNorm, as torch.nn.modules.batchnorm.

Parameters weight (ones) and bias (zeros) when affine; buffers running_mean (zeros),
running_var (ones) and num_batches_tracked (an int64 0-d tensor) when track_running_stats,
registered under PyTorch's names so that state dicts load both ways.
"""
import numbers

from .. import distributed, dtypes
from ..autograd import no_grad
from ..distributed.functional import all_reduce as all_reduce_with_grad
from ..factories import ones, tensor, zeros
from ..functions import cat
from ..tensor import Tensor
from . import functional as F
from ._arguments import positive_int
from ._init import empty_parameter, factory_device
from .module import Module


class _BatchNorm(Module):
    """Normalises each channel (dimension 1) of its input over every other dimension.

    In training it normalises with the batch's statistics and, when it tracks running
    statistics, counts the batch in num_batches_tracked and folds the batch's mean and
    unbiased variance into running_mean / running_var with factor `momentum` (or, with
    momentum=None, 1 / num_batches_tracked: a cumulative average). In evaluation it normalises
    with the running statistics; without them (track_running_stats=False) it always uses the
    batch's."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        layer = type(self).__name__
        self.num_features = positive_int(layer, "num_features", num_features)
        if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not eps >= 0:
            raise ValueError(f"{layer}: eps must be a number >= 0, got {eps!r}")
        if momentum is not None and (isinstance(momentum, bool) or
                                     not isinstance(momentum, numbers.Real)):
            raise TypeError(f"{layer}: momentum must be a float or None, got {momentum!r}")
        device = factory_device(layer, device, dtype)
        self.eps = eps
        self.momentum = momentum
        self.affine = bool(affine)
        self.track_running_stats = bool(track_running_stats)
        if self.affine:   # filled by reset_parameters() below, as in torch
            self.weight = empty_parameter((self.num_features,), device)
            self.register_parameter(
                "bias", empty_parameter((self.num_features,), device) if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if self.track_running_stats:
            self.register_buffer("running_mean", zeros(self.num_features, device=device))
            self.register_buffer("running_var", ones(self.num_features, device=device))
            self.register_buffer("num_batches_tracked",
                                 tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()   # a subclass's override takes effect, as in torch

    def reset_running_stats(self):
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1)
                self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            with no_grad():
                self.weight.fill_(1)
                if self.bias is not None:
                    self.bias.zero_()

    def _check_input_dim(self, input):  # noqa: A002
        raise NotImplementedError

    def _check_and_count(self, input):  # noqa: A002
        """Check the input; in training, count the batch. Returns the factor the running
        statistics move by."""
        layer = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{layer}: input must be a gpucnn Tensor, got "
                            f"{type(input).__name__}")
        self._check_input_dim(input)
        if input.shape[1] != self.num_features:
            raise ValueError(f"{layer}: expected input with {self.num_features} channels "
                             f"(num_features) in dimension 1, got input of shape "
                             f"{tuple(input.shape)}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:   # a cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked)
        return factor

    def forward(self, input):  # noqa: A002
        factor = self._check_and_count(input)
        # Batch statistics in training, and in evaluation when there are no running ones.
        use_batch_stats = self.training or (self.running_mean is None and
                                            self.running_var is None)
        # Running statistics are updated only when tracked, in training.
        track = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if track else None,
                            self.running_var if track else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per channel C."""

    def _check_input_dim(self, input):  # noqa: A002
        if input.dim() not in (2, 3):
            raise ValueError(f"BatchNorm1d: expected 2D or 3D input (got {input.dim()}D input "
                             f"of shape {tuple(input.shape)})")


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, per channel C."""

    def _check_input_dim(self, input):  # noqa: A002
        if input.dim() != 4:
            raise ValueError(f"BatchNorm2d: expected 4D input (got {input.dim()}D input of "
                             f"shape {tuple(input.shape)})")


class SyncBatchNorm(_BatchNorm):
    """Batch normalization whose training statistics cover the whole global batch: the
    per-channel sums of every rank's batch are added across the ranks of the default process
    group (gpucnn.distributed), and so are the gradients that flow back through them. Outside
    training, or without a process group of more than one rank, it is BatchNorm.

    Built from differentiable ops (gpucnn.distributed.nn.functional.all_reduce for the sums),
    so its backward is autograd's: exact, but several passes where BatchNorm2d fuses one.
    The variance is taken about the global mean (two reductions), never as E[x^2] - E[x]^2.
    """

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, process_group=None, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype)
        self.process_group = process_group

    def _check_input_dim(self, input):  # noqa: A002
        if input.dim() < 2:
            raise ValueError(f"SyncBatchNorm: expected at least 2D input (got {input.dim()}D "
                             f"input of shape {tuple(input.shape)})")

    def forward(self, input):  # noqa: A002
        if not (self.training and distributed.is_initialized() and
                distributed.get_world_size(self.process_group) > 1):
            return super().forward(input)
        factor = self._check_and_count(input)
        dims = (0, *range(2, input.dim()))
        per_channel = (1, self.num_features) + (1,) * (input.dim() - 2)
        count = input.numel() // self.num_features
        local = cat([input.sum(dims), tensor([float(count)], device=input.device)])
        totals = all_reduce_with_grad(local)
        total = float(totals[-1])
        if total <= 1:
            raise ValueError(f"SyncBatchNorm: expected more than 1 value per channel when "
                             f"training, got input size {list(input.shape)} on this rank and "
                             f"{int(total)} values per channel over all ranks")
        mean = totals[:-1] / total
        centered = input - mean.reshape(per_channel)
        var = all_reduce_with_grad((centered * centered).sum(dims)) / total
        out = centered * (var + self.eps).rsqrt().reshape(per_channel)
        if self.weight is not None:
            out = out * self.weight.reshape(per_channel)
        if self.bias is not None:
            out = out + self.bias.reshape(per_channel)
        if self.track_running_stats:
            with no_grad():   # PyTorch: the unbiased variance goes into the running estimate
                self.running_mean.mul_(1 - factor).add_(mean.detach() * factor)
                self.running_var.mul_(1 - factor).add_(var.detach() * (factor * total /
                                                                        (total - 1)))
        return out

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """The module with every BatchNorm*d replaced by a SyncBatchNorm holding the same
        parameters and buffers (the module itself when it is one)."""
        converted = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            converted = cls.__new__(cls)
            Module.__init__(converted)
            for name in ("num_features", "eps", "momentum", "affine", "track_running_stats"):
                setattr(converted, name, getattr(module, name))
            converted.process_group = process_group
            for name, param in module._parameters.items():
                converted.register_parameter(name, param)
            for name, buffer in module._buffers.items():
                converted.register_buffer(name, buffer,
                                          persistent=name not in module._non_persistent_buffers)
            converted.train(module.training)
        for name, child in module.named_children():
            setattr(converted, name, cls.convert_sync_batchnorm(child, process_group))
        return converted
