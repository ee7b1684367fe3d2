"""Accuracy, per-class accuracy and the confusion matrix of a model on a dataset."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np

from ..autograd import no_grad
from ..nn import functional as F
from ..serialization import write_atomically
from ..factories import tensor
from . import UserError


@dataclass
class EvalResult:
    loss: float
    confusion: np.ndarray  # [true class, predicted class] -> count, int64

    @property
    def total(self) -> int:
        return int(self.confusion.sum())

    @property
    def correct(self) -> int:
        return int(np.trace(self.confusion))

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else float("nan")

    @property
    def per_class(self) -> np.ndarray:
        """Accuracy (recall) of each true class; NaN for a class with no images."""
        counts = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(counts > 0, np.diag(self.confusion) / np.maximum(counts, 1), np.nan)


def evaluate(model, loader, device, num_classes) -> EvalResult:
    """Mean cross-entropy and confusion matrix over every batch of `loader` (NumPy batches)."""
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    loss_sum, seen = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            for x, y in loader:
                logits = model(tensor(x, device=device))
                loss_sum += F.cross_entropy(logits, tensor(y, device=device)).item() * len(y)
                seen += len(y)
                predicted = logits.numpy().argmax(axis=1)
                np.add.at(confusion, (y, predicted), 1)
    finally:
        model.train(was_training)
    return EvalResult(loss_sum / seen if seen else float("nan"), confusion)


def result_dict(result: EvalResult, classes) -> dict:
    counts = result.confusion.sum(axis=1)
    return {
        "accuracy": result.accuracy, "loss": result.loss, "correct": result.correct,
        "images": result.total,
        "per_class": [{"class": i, "name": name, "images": int(counts[i]),
                       "correct": int(result.confusion[i, i]),
                       "accuracy": None if counts[i] == 0 else float(result.per_class[i])}
                      for i, name in enumerate(classes)],
        "confusion_matrix": result.confusion.tolist(),
    }


def confusion_table(result: EvalResult, classes):
    """A rich Table: rows are true classes, columns predicted ones, then per-class accuracy."""
    from rich import box
    from rich.table import Table
    table = Table(title="Confusion matrix (rows: true class, columns: predicted class)",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("true\\pred", no_wrap=True)
    for i in range(len(classes)):
        table.add_column(str(i), justify="right", no_wrap=True)
    table.add_column("images", justify="right", no_wrap=True)
    table.add_column("accuracy", justify="right", no_wrap=True)
    counts = result.confusion.sum(axis=1)
    for i, name in enumerate(classes):
        label = str(i) if name == str(i) else f"{i} {name}"
        cells = []
        for j in range(len(classes)):
            count = int(result.confusion[i, j])
            if i == j:
                cells.append(f"[bold green]{count}[/]")
            elif count:
                cells.append(f"[red]{count}[/]")
            else:
                cells.append("[dim]0[/]")
        accuracy = "-" if counts[i] == 0 else f"{result.per_class[i]:.1%}"
        table.add_row(label, *cells, str(int(counts[i])), accuracy)
    return table


def require_matplotlib():
    """matplotlib's Figure and Agg canvas, or a UserError saying how to install it."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise UserError("--png needs matplotlib, which is not installed: pip install matplotlib "
                        "(or pip install 'gpucnn[bench]')") from None
    return Figure, FigureCanvasAgg


def write_confusion_png(path, result: EvalResult, classes, title: str):
    """Draw the confusion matrix with matplotlib (optional dependency) and write it atomically."""
    Figure, FigureCanvasAgg = require_matplotlib()
    n = len(classes)
    size = 1.6 + 0.55 * n
    figure = Figure(figsize=(size + 1.2, size))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    counts = result.confusion.sum(axis=1, keepdims=True)
    shares = result.confusion / np.maximum(counts, 1)  # colour by row share: classes differ in size
    image = axes.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="share of the true class")
    labels = [c if len(c) <= 12 else c[:11] + "." for c in classes]
    axes.set_xticks(range(n), labels=labels, rotation=45 if max(map(len, labels)) > 2 else 0,
                    ha="right" if max(map(len, labels)) > 2 else "center")
    axes.set_yticks(range(n), labels=labels)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title, fontsize=10)
    for i in range(n):
        for j in range(n):
            count = int(result.confusion[i, j])
            if count:
                axes.text(j, i, str(count), ha="center", va="center", fontsize=8,
                          color="white" if shares[i, j] > 0.5 else "black")
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    write_atomically(path, buffer.getvalue())
