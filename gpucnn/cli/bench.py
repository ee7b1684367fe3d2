"""Placeholder: being written."""
import click


@click.command()
def bench():
    """Not written yet."""
    raise click.ClickException("gpucnn bench is not written yet")
