"""The `cxport` command: parses options, calls one service function, renders."""

from __future__ import annotations

import sys

import click

from cxport.errors import CxportError


@click.group()
@click.version_option(package_name="cxport")
def main() -> None:
    """cxport: analytics data exports of a messaging operation."""


def fail(exc: CxportError) -> None:
    click.echo(f"cxport: {exc}", err=True)
    sys.exit(exc.exit_code)
