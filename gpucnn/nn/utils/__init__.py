"""gpucnn.nn.utils: gradient clipping (clip_grad.py), as torch.nn.utils."""
from .clip_grad import (clip_grad_norm, clip_grad_norm_, clip_grad_value_,  # noqa: F401
                        clip_grads_with_norm_, get_total_norm)
