"""What the user sees and presses during training: progress bars and Ctrl-C.

Progress: one rich progress bar per epoch, with batches done, running loss and accuracy, and
images/s.

Ctrl-C: Ctrl-C during training: stop at the next batch boundary, so the checkpoint is consistent.

Python raises KeyboardInterrupt wherever the main thread happens to be, which may be halfway
through an optimizer step (half the parameters updated). Within `deferred_interrupt()` the
first Ctrl-C only sets a flag that the trainer checks after each batch; a second Ctrl-C
raises KeyboardInterrupt at once, for a run that must stop now.
"""
from __future__ import annotations

import contextlib
import signal
import threading

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def _metrics(sums) -> str:
    if not sums.seen:
        return ""
    return (f"loss {sums.loss:.4f}  acc {sums.accuracy:6.2%}  "
            f"{sums.images_per_second:,.0f} img/s")


class EpochProgress:
    """The reporter the Trainer calls: start_epoch, update (after each batch), end_epoch."""

    def __init__(self, console: Console | None = None, enabled: bool = True):
        if console is None:
            console = Console(stderr=True)
            if not console.is_terminal:  # a log file: no 80-column squeeze of the metrics
                console = Console(stderr=True, width=120)
        self.console = console
        self.enabled = enabled
        self._progress = None
        self._task = None

    def start_epoch(self, epoch, epochs, batches, sums):
        if not self.enabled:
            return
        width = len(str(epochs))
        self._progress = Progress(
            TextColumn(f"epoch {epoch:>{width}}/{epochs}"), BarColumn(bar_width=30),
            MofNCompleteColumn(), TextColumn("{task.fields[metrics]}"), TimeElapsedColumn(),
            console=self.console, transient=False)
        self._progress.start()
        self._task = self._progress.add_task("train", total=batches, completed=sums.batches,
                                             metrics=_metrics(sums))

    def update(self, sums):
        if self._progress is not None:
            self._progress.update(self._task, completed=sums.batches, metrics=_metrics(sums))

    def end_epoch(self, entry):
        if self._progress is None:
            return
        text = (f"loss {entry['train_loss']:.4f}  acc {entry['train_accuracy']:6.2%}  "
                f"{entry['images_per_second']:,.0f} img/s  test {entry['test_accuracy']:6.2%}")
        self._progress.update(self._task, metrics=text)
        self.close()

    def close(self):
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


# --- Ctrl-C ---------------------------------------------------------------------------

class InterruptFlag:
    def __init__(self):
        self.requested = False

    def __call__(self) -> bool:
        return self.requested

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


@contextlib.contextmanager
def deferred_interrupt():
    flag = InterruptFlag()
    if threading.current_thread() is not threading.main_thread():
        yield flag  # signal handlers can only be set from the main thread
        return
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, flag._handle)
    try:
        yield flag
    finally:
        restore = previous if previous is not None else signal.default_int_handler
        signal.signal(signal.SIGINT, restore)
