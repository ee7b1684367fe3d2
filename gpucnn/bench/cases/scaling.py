"""The `scaling` suite: how cost grows with batch size and with image size.

Batch: the CIFAR convnet's training step and its second convolution's forward pass, batch 1 to
512. Image: one convolution 3 -> 16, 3x3, pad 1, forward, on one image from 32x32 up to the
720x960x3 photo of the article this project grew from. Beside it, `parameter_comparison()`
says why a CNN and not a dense layer: a 1,000-unit dense layer on that photo needs 2.07
billion weights, the 3x3 convolution 448.
"""
from dataclasses import replace

from ..flops import ConvShape
from .kernels import conv_case
from .models import model_case

BATCHES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
QUICK_BATCHES = (1, 8, 64)
IMAGE_SIZES = ((32, 32), (64, 64), (128, 128), (224, 224), (480, 640), (720, 960))
QUICK_IMAGE_SIZES = ((32, 32), (224, 224), (720, 960))
PHOTO = (720, 960, 3)      # height, width, channels
DENSE_UNITS = 1000
CONV_OUT, CONV_KERNEL = 16, 3


def cases(env) -> list:
    quick = env.quick
    out = []
    for batch in (QUICK_BATCHES if quick else BATCHES):
        case = model_case("convnet", "train_step", batch, suite="scaling")
        out.append(replace(case, meta={**case.meta, "sweep": "batch"}))
    for batch in (QUICK_BATCHES if quick else BATCHES):
        case = conv_case("conv2d_forward", "convnet.conv2", ConvShape(batch, 32, 16, 16, 64, 3, 3,
                                                                      1, 1), None, None)
        out.append(_scaling(case, "batch"))
    for h, w in (QUICK_IMAGE_SIZES if quick else IMAGE_SIZES):
        cs = ConvShape(1, PHOTO[2], h, w, CONV_OUT, CONV_KERNEL, CONV_KERNEL, 1, 1)
        case = conv_case("conv2d_forward", f"image{h}x{w}", cs, None, None)
        out.append(_scaling(case, "image", image=f"{h}x{w}", pixels=h * w))
    return out


def _scaling(case, sweep, **meta):
    return replace(case, suite="scaling", case_id=f"scaling/{case.case_id}",
                   meta={**case.meta, "sweep": sweep, **meta})


def parameter_comparison() -> dict:
    h, w, c = PHOTO
    inputs = h * w * c                               # 2,073,600 input values
    dense = inputs * DENSE_UNITS + DENSE_UNITS       # one weight per (input, unit) + a bias per unit
    conv = c * CONV_OUT * CONV_KERNEL ** 2 + CONV_OUT  # 3*16*9 weights + 16 biases = 448
    return {"image": f"{h}x{w}x{c}", "inputs": inputs,
            "dense_units": DENSE_UNITS, "dense_params": dense,
            "conv": f"{c}->{CONV_OUT} {CONV_KERNEL}x{CONV_KERNEL}", "conv_params": conv,
            "ratio": dense / conv}


def parameter_comparison_text() -> str:
    p = parameter_comparison()
    return (f"A dense layer of {p['dense_units']:,} units on a {p['image']} photo "
            f"({p['inputs']:,} inputs) has {p['dense_params']:,} parameters "
            f"(~{p['dense_params'] / 1e9:.2f} billion, {4 * p['dense_params'] / 2**30:.1f} GiB "
            f"in float32); a {p['conv']} convolution has {p['conv_params']:,}, "
            f"{p['ratio']:,.0f}x fewer, and slides over any image size.")
