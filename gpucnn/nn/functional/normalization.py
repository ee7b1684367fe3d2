"""Batch normalization."""


def batch_norm(*args, **kwargs):
    raise NotImplementedError('batch_norm: being written')

