"""Process configuration, read once from the environment (and a .env file)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv


def _instance_dir() -> Path:
    return Path(os.environ.get("SOKURESU_INSTANCE", Path.cwd() / "instance"))


def _secret_key(instance: Path) -> str:
    """Return SECRET_KEY, or a key generated once and kept under instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


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
            secret_key=get("SECRET_KEY") or _secret_key(instance),
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
            google_service_account_file=get("GOOGLE_SERVICE_ACCOUNT_FILE"),
            google_service_account_json=get("GOOGLE_SERVICE_ACCOUNT_JSON"),
            google_delegated_user=get("GOOGLE_DELEGATED_USER"),
            google_api_endpoint=get("GOOGLE_API_ENDPOINT"),
            google_token_uri=get("GOOGLE_TOKEN_URI"),
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
