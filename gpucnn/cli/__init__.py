import click


@click.group()
def main():
    """gpucnn: train and benchmark CNNs on hand-written CUDA kernels (or their CPU twins)."""
