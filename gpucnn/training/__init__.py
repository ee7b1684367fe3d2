"""The training side of gpucnn, behind the `gpucnn train/evaluate/predict` commands.

    config.py      hyper-parameters, per-dataset defaults, the device and thread count, the
                   checks every option and output path gets before any work starts
    data.py        datasets as the commands see them: train and held-out halves
    checkpoint.py  safetensors checkpoints (weights, optimizer, progress, RNG) and the models
                   rebuilt from them for evaluate and predict
    trainer.py     the epoch loop, resumable at any batch
    distributed.py the same run over the ranks of an MPI job (train --distributed)
    console.py     what the user sees and presses: progress bars, Ctrl-C at batch boundaries
    evaluation.py  accuracy, confusion matrix, its PNG
    inputs.py      image and .npy files for predict
"""


class UserError(Exception):
    """Bad input from the user (options, files, checkpoints): the message says what and where;
    the commands print it as one line ("Error: ...") instead of a traceback."""
