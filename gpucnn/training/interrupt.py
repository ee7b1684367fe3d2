"""Ctrl-C during training: stop at the next batch boundary, so the checkpoint is consistent.

Python raises KeyboardInterrupt wherever the main thread happens to be, which may be halfway
through an optimizer step (half the parameters updated). Within `deferred_interrupt()` the
first Ctrl-C only sets a flag that the trainer checks after each batch; a second Ctrl-C
raises KeyboardInterrupt at once, for a run that must stop now.
"""
import contextlib
import signal
import threading


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
