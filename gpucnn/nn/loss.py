"""Loss modules."""
from .module import Module


class CrossEntropyLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('CrossEntropyLoss: being written')


class NLLLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('NLLLoss: being written')


class MSELoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('MSELoss: being written')


class L1Loss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('L1Loss: being written')


class SmoothL1Loss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('SmoothL1Loss: being written')


class HuberLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('HuberLoss: being written')


class BCELoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('BCELoss: being written')


class BCEWithLogitsLoss(Module):
    def __init__(self, *args, **kwargs):
        raise NotImplementedError('BCEWithLogitsLoss: being written')

