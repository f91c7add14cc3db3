"""What every `sokuresu` command shares."""
from __future__ import annotations

import click

from bot.bootstrap import bootstrap
from bot.config import Config
from bot.core.settings import SettingsError
from bot.service.deps import Services


def load_services(config: Config | None = None) -> Services:
    """Services from the environment; a settings file with a mistake is a CLI error that names it."""
    try:
        return bootstrap(config=config)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
