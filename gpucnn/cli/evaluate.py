"""Placeholder: being written."""
import click


@click.command()
def evaluate():
    """Not written yet."""
    raise click.ClickException("gpucnn evaluate is not written yet")
