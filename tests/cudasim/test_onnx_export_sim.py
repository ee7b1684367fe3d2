"""gpucnn.onnx.export of a model on "cuda" (under the simulator, or a real GPU): the traces
run on the device, parameters, buffers and constants come to the host, and onnxruntime
computes what the model computes there."""
import numpy as np
import onnxruntime as ort

import gpucnn as gc
from gpucnn import nn
from gpucnn.nn import functional as F
from tests.cudasim.small_geometry import shrink_engine_blocks


def test_a_cuda_model_exports(monkeypatch):
    shrink_engine_blocks(monkeypatch)
    gc.manual_seed(4)
    model = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.BatchNorm2d(3), nn.ReLU(),
                          nn.MaxPool2d(2, ceil_mode=True), nn.Flatten(), nn.Linear(27, 4))
    with gc.no_grad():
        model[1].running_mean.copy_(gc.randn(3) * 0.2)
        model[1].running_var.copy_(gc.rand(3) + 0.5)
    model.to("cuda").eval()
    x = gc.randn(2, 2, 5, 5, device="cuda")
    proto = gc.onnx.export(model, x, None, input_names=["x"], dynamic_axes={"x": {0: "n"}})
    assert [n.op_type for n in proto.graph.node] == ["Conv", "Relu", "MaxPool", "Reshape",
                                                     "Gemm"]
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = gc.randn(3, 2, 5, 5, device="cuda")
    with gc.no_grad():
        expected = model(x).numpy()
    got = session.run(None, {"x": x.numpy()})[0]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_cuda_views_padding_and_flips_export():
    gc.manual_seed(5)

    def forward(x):
        y = F.pad(x[:, :, 1:, ::2], (1, 1, 0, 2), mode="reflect").flip(-1)
        return (y.mean((2, 3)) + x.detach().amax((2, 3))).softmax(1)

    x = gc.randn(2, 3, 4, 6, device="cuda")
    proto = gc.onnx.export(forward, x, None, dynamic_axes={"x": {0: "n"}})
    session = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    x = gc.randn(4, 3, 4, 6, device="cuda")
    np.testing.assert_allclose(session.run(None, {"x": x.numpy()})[0], forward(x).numpy(),
                               rtol=1e-5, atol=1e-6)
