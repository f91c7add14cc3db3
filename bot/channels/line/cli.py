"""`sokuresu line ...`: LINE account set-up from the command line."""
from __future__ import annotations

from pathlib import Path

import click

from bot.config import Config
from bot.core.settings import SettingsError, load_settings


@click.group("line")
def line() -> None:
    """LINE channel tools."""


@line.command("setup-richmenu")
@click.option("--save-image", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the generated PNG here.")
def setup_richmenu(save_image: Path | None) -> None:
    """Create the rich menu (book, change, company video, talk to a person) and make it every friend's default."""
    from bot.channels.line.richmenu import image, menu

    config = Config.from_env()
    if not config.line_enabled:
        raise click.ClickException("set LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN first")
    try:
        settings = load_settings(config.settings_path)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    picture = image(settings)
    if save_image:
        save_image.write_bytes(picture)
    from bot.channels.line.adapter import install_rich_menu

    try:
        menu_id = install_rich_menu(config, menu(settings), picture)
    except RuntimeError as exc:
        raise click.ClickException(f"LINE refused the rich menu: {exc}") from None
    click.echo(f"rich menu {menu_id} is now the default for every friend of the account")
