"""Sokuresu: instant, warm first contact and interview booking for job applicants."""


def create_app(test_config=None, services=None):
    """Build the Flask app (see bot.app)."""
    from bot.app import create_app as _create

    return _create(test_config, services)
