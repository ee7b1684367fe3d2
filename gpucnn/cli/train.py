"""Placeholder: being written."""
import click


@click.command()
def train():
    """Not written yet."""
    raise click.ClickException("gpucnn train is not written yet")
