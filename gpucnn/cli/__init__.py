"""The `gpucnn` command: train, evaluate, predict, export, bench."""
import click

from .bench import bench
from .evaluate import evaluate
from .export import export
from .predict import predict
from .train import train


@click.group()
@click.version_option(package_name="gpucnn")
def main():
    """gpucnn: train and benchmark CNNs on hand-written CUDA kernels (or their CPU twins)."""


main.add_command(train)
main.add_command(evaluate)
main.add_command(predict)
main.add_command(export)
main.add_command(bench)
