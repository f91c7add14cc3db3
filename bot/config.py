"""Process configuration, read once from the environment (and a .env file)."""
from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv


def _instance_dir() -> Path:
    return Path(os.environ.get("SOKURESU_INSTANCE", Path.cwd() / "instance"))


# Everything unguessable (feed tokens, candidate links, the recruiter link, stored credentials) is derived from
# SECRET_KEY: an empty or short one would let anyone compute them.
MIN_SECRET_KEY = 32


class ConfigError(ValueError):
    """An environment setting Sokuresu cannot start with; the message names it and says what to do."""


def _checked(key: str, where: str) -> str:
    if len(key) < MIN_SECRET_KEY:
        size = "empty" if not key else f"only {len(key)} characters"
        raise ConfigError(f"{where} is {size}: it must be at least {MIN_SECRET_KEY} random characters "
                          "(python -c 'import secrets; print(secrets.token_urlsafe(48))')")
    return key


def _secret_key(instance: Path) -> str:
    """The key kept under instance/, made once: written whole under a temporary name, then linked into place, so
    processes starting together either make it or read the one another made, never half of it."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=instance, prefix=".secret_key.")  # created 0600
        try:
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(48))
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # fails if another process put its key there first: then that one holds
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    where = f"the key file {path} (delete it to have a new one made, or set SECRET_KEY)"
    return _checked(path.read_text().strip(), where)


def _proxies(value: str | None) -> int:
    """TRUSTED_PROXIES: how many reverse proxies each add the address they saw to X-Forwarded-For. A client can
    write that header too, so only the entries those proxies added are believed, never more."""
    if value is None:
        return 0
    if not (value.isascii() and value.isdigit()) or int(value) > 5:
        raise ConfigError(f"TRUSTED_PROXIES must be a number of proxies from 0 to 5, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Config:
    """Every outside setting of the process; all optional, with embedded defaults."""

    database_url: str
    secret_key: str
    public_base_url: str = "http://localhost:5000"
    settings_path: str | None = None
    intake_api_key: str | None = None
    line_channel_secret: str | None = None
    line_channel_access_token: str | None = None
    line_api_base_url: str | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from_number: str | None = None
    twilio_messaging_service_sid: str | None = None
    twilio_api_base_url: str | None = None
    smtp_url: str | None = None
    mail_from: str | None = None
    google_service_account_file: str | None = None
    google_service_account_json: str | None = None
    google_delegated_user: str | None = None
    google_api_endpoint: str | None = None
    google_token_uri: str | None = None
    # Google Sign-In for the recruiter pages (an OAuth client of type "Web application"); off without both.
    google_client_id: str | None = None
    google_client_secret: str | None = None
    google_discovery_url: str | None = None  # the OpenID provider's discovery document (tests); Google's own
    # A Slack-compatible incoming webhook (POST {"text": ...}) that recruiter alerts also go to; a secret URL.
    alert_webhook_url: str | None = None
    redis_url: str | None = None  # shared storage for the form's rate limits; without it, the database
    trusted_proxies: int = 0  # reverse proxies in front whose X-Forwarded-For is believed (0: none)
    instance_path: str = field(default="instance")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Config":
        """Build the config from os.environ after honouring ./.env."""
        if env is None:
            load_dotenv(Path.cwd() / ".env", override=False)
            env = dict(os.environ)
        instance = Path(env.get("SOKURESU_INSTANCE", _instance_dir()))
        get = lambda name: (env.get(name) or None)  # noqa: E731  empty means unset
        database_url = get("DATABASE_URL")
        if not database_url:
            instance.mkdir(parents=True, exist_ok=True)
            database_url = f"sqlite:///{(instance / 'sokuresu.sqlite3').resolve()}"
        return cls(
            database_url=database_url,
            secret_key=_checked(get("SECRET_KEY"), "SECRET_KEY") if get("SECRET_KEY") else _secret_key(instance),
            public_base_url=(get("PUBLIC_BASE_URL") or "http://localhost:5000").rstrip("/"),
            settings_path=get("SOKURESU_SETTINGS"),
            intake_api_key=get("INTAKE_API_KEY"),
            line_channel_secret=get("LINE_CHANNEL_SECRET"),
            line_channel_access_token=get("LINE_CHANNEL_ACCESS_TOKEN"),
            line_api_base_url=get("LINE_API_BASE_URL"),
            twilio_account_sid=get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=get("TWILIO_AUTH_TOKEN"),
            twilio_from_number=get("TWILIO_FROM_NUMBER"),
            twilio_messaging_service_sid=get("TWILIO_MESSAGING_SERVICE_SID"),
            twilio_api_base_url=get("TWILIO_API_BASE_URL"),
            smtp_url=get("SMTP_URL"),
            mail_from=get("MAIL_FROM"),
            alert_webhook_url=get("ALERT_WEBHOOK_URL"),
            google_service_account_file=get("GOOGLE_SERVICE_ACCOUNT_FILE"),
            google_service_account_json=get("GOOGLE_SERVICE_ACCOUNT_JSON"),
            google_delegated_user=get("GOOGLE_DELEGATED_USER"),
            google_api_endpoint=get("GOOGLE_API_ENDPOINT"),
            google_token_uri=get("GOOGLE_TOKEN_URI"),
            google_client_id=get("GOOGLE_CLIENT_ID"),
            google_client_secret=get("GOOGLE_CLIENT_SECRET"),
            google_discovery_url=get("GOOGLE_DISCOVERY_URL"),
            redis_url=get("REDIS_URL"),
            trusted_proxies=_proxies(get("TRUSTED_PROXIES")),
            instance_path=str(instance),
        )

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

    @property
    def sms_enabled(self) -> bool:
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.twilio_from_number or self.twilio_messaging_service_sid)
        )
