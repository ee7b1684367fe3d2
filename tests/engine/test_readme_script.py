"""The README's PyTorch training script runs as written (one short epoch on synthetic
CIFAR-shaped data standing in for the download), and its checkpoint resumes."""
import re
from pathlib import Path

import numpy as np

import gpucnn as gc
import gpucnn.data
from gpucnn.data import Dataset

README = Path(__file__).resolve().parents[2] / "README.md"


def _script() -> str:
    text = README.read_text()
    match = re.search(r"<!-- script: cifar-resnet -->\n```python\n(.*?)```", text, re.S)
    assert match, "README lost its training script"
    return match.group(1)


def _synthetic(name, download=False, **kwargs):
    assert name == "cifar10" and download
    rng = np.random.default_rng(0)
    classes = [str(i) for i in range(10)]

    def part(n):
        return Dataset(rng.random((n, 3, 32, 32), dtype=np.float32),
                       rng.integers(0, 10, n), classes, "cifar10")
    return part(256), part(100)


def test_the_readme_script_runs_and_its_checkpoint_resumes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(gpucnn.data, "load_dataset", _synthetic)
    script = _script().replace("EPOCHS = 30", "EPOCHS = 1")
    namespace = {"__name__": "__main__"}
    exec(compile(script, "README.md", "exec"), namespace)
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"epoch 1: loss \d+\.\d{3}, test accuracy \d+\.\d\d%", line), line
    checkpoint = gc.load("resnet20.safetensors")
    assert checkpoint["epoch"] == 0
    model, optimizer, scheduler = (namespace[k] for k in ("model", "optimizer", "scheduler"))
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    assert scheduler.get_last_lr() == namespace["scheduler"].get_last_lr()
    assert checkpoint["scheduler"]["last_epoch"] == 2   # 256 images / 128 per batch
