"""Placeholder: being written."""
import click


@click.command()
def predict():
    """Not written yet."""
    raise click.ClickException("gpucnn predict is not written yet")
