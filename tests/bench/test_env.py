"""The bench's environment: a torch reference with TF32 off, and the settings recorded."""
import torch

from gpucnn.bench.env import fp32_without_tf32


def test_torch_fp32_reference_is_ieee():
    settings = fp32_without_tf32(torch)
    assert settings == {"api": "fp32_precision", "matmul": "ieee", "cudnn_conv": "ieee"}
    assert torch.backends.cuda.matmul.fp32_precision == "ieee"
    assert torch.backends.cudnn.conv.fp32_precision == "ieee"
