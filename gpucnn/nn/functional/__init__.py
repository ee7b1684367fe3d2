"""gpucnn.nn.functional: the PyTorch-shaped functional API, one file per family.

Every function normalises its arguments and checks shapes in its family's file, so bad input
raises a ValueError/TypeError naming the op and the shapes before any kernel runs.
"""
from .activation import (elu, gelu, leaky_relu, log_softmax, relu, sigmoid, silu,  # noqa: F401
                         softmax, tanh)
from .conv import conv2d  # noqa: F401
from .dropout import dropout, dropout2d  # noqa: F401
from .linear import linear  # noqa: F401
from .loss import (binary_cross_entropy, binary_cross_entropy_with_logits,  # noqa: F401
                   cross_entropy, huber_loss, l1_loss, mse_loss, nll_loss, smooth_l1_loss)
from .normalization import batch_norm  # noqa: F401
from .padding import pad  # noqa: F401
from .sparse import one_hot  # noqa: F401
from .pooling import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d,  # noqa: F401
                      max_pool2d)
