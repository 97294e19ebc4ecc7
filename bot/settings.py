"""Settings read once at start-up from the environment and `.env` (the composition root passes them down)."""

from __future__ import annotations

import logging
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

DEFAULT_DATABASE_URL = "sqlite:///aurum.db"
SLACK_API_URL = "https://slack.com/api/"
SECRET_NAMES = ("github_token", "jira_token", "sonar_token", "pagerduty_token")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# The bot scopes of manifest.yml; OAuth installs ask for these.
DEFAULT_SCOPES = "commands,chat:write,chat:write.public,files:write,im:write,channels:read,groups:read,users:read," \
    "usergroups:read"


class SettingsError(Exception):
    """Raised with one readable line per problem in the environment."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    # Keys the survey answer sets (see aurum/surveys/answers.py); defaults to the signing secret. Keep it stable
    # while a survey is open: a new secret means nobody can change answers given before the change.
    aurum_survey_secret: SecretStr | None = None
    slack_api_url: str = SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    aurum_timezone: str = "UTC"
    aurum_config: Path | None = None
    aurum_admins: str = ""
    aurum_admin_group: str = ""
    aurum_workspace_admins: bool = True
    slack_client_id: str | None = None
    slack_client_secret: SecretStr | None = None
    slack_scopes: str = DEFAULT_SCOPES
    slack_redirect_uri: str | None = None
    aurum_max_body_bytes: int = Field(default=1_000_000, ge=1_000, le=50_000_000)
    web_concurrency: int = Field(default=1, ge=1, le=32)
    # Threads that run Slack ack functions at once (the other HTTP routes have anyio's pool of 40). Acks are
    # interpreter work without I/O: a few threads answer a burst sooner than many taking turns for the GIL.
    aurum_web_threads: int = Field(default=8, ge=1, le=1000)
    # Threads for the requests' work after the ack (queries, charts). CPU-bound under the GIL: two threads give the
    # same throughput as more, take the database's write lock less often (each claims its tasks), and leave the
    # acks more of the interpreter (bench/bench_ack.py: ack p99 66 ms with 2, 90 ms with 4).
    aurum_lazy_threads: int = Field(default=2, ge=1, le=256)
    # `aurum serve`: run the work after the ack and the deliveries in a process of their own beside each web
    # process (bot/work_process.py), so that acks never wait for them. Off: threads of the web process.
    aurum_work_process: bool = True
    aurum_log_level: str = "INFO"
    # How long an outbox row stays claimed by a worker: after a crash, the row is retried once this passed.
    aurum_outbox_claim_seconds: int | None = Field(default=None, ge=11, le=3600)  # default: 15 s, uploads 45 s
    aurum_chart_dir: Path = Path("charts")
    port: int = Field(default=3000, ge=1, le=65535)
    # Collector credentials (see the `sources:` section of the config file).
    github_token: SecretStr | None = None
    jira_token: SecretStr | None = None
    sonar_token: SecretStr | None = None
    pagerduty_token: SecretStr | None = None
    pagerduty_routing_key: SecretStr | None = None
    pagerduty_events_url: str = PAGERDUTY_EVENTS_URL
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "aurum@localhost"
    smtp_starttls: bool = True
    alertmanager_token: SecretStr | None = None

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _heroku_postgres(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if not value.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:/// or postgres:// (for example sqlite:///aurum.db)")
        return value

    @field_validator("aurum_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Berlin") from exc
        return value

    @field_validator("aurum_config")
    @classmethod
    def _config_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"no such file: {value}")
        return value

    @field_validator("slack_bot_token", "slack_app_token", "slack_signing_secret", "github_token", "jira_token",
                     "sonar_token", "pagerduty_token", "pagerduty_routing_key", "smtp_password", "alertmanager_token",
                     "smtp_host", "smtp_user", "aurum_survey_secret", "slack_client_secret", "slack_client_id",
                     "slack_redirect_uri", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("aurum_log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @property
    def log_level(self) -> int:
        return logging.getLevelName(self.aurum_log_level)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.aurum_timezone)

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.aurum_admins.split(",") if part.strip())

    @property
    def secrets(self) -> dict[str, SecretStr | None]:
        """The collectors' credentials, by setting name."""
        return {name: getattr(self, name) for name in SECRET_NAMES}

    @property
    def survey_secret(self) -> bytes | None:
        secret = self.aurum_survey_secret or self.slack_signing_secret
        return secret.get_secret_value().encode() if secret else None

    @property
    def oauth_enabled(self) -> bool:
        """Many workspaces: installs through /slack/install, a bot token per workspace in the database."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None or self.oauth_enabled

    @property
    def scopes(self) -> list[str]:
        return [part.strip() for part in self.slack_scopes.split(",") if part.strip()]

    def secret_values(self) -> list[str]:
        """Every configured secret, so that the log filter can scrub them wherever they turn up."""
        secrets = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token, self.slack_client_secret]
        values = [s.get_secret_value() for s in secrets if s is not None]
        password = make_url(self.database_url).password
        if password:
            values.append(str(password))
        return [v for v in values if len(v) >= 6]

    def check_for_slack(self) -> None:
        """Slack mode needs a bot token (or OAuth client credentials) and, over HTTP, a signing secret."""
        problems = []
        if (self.slack_client_id is None) != (self.slack_client_secret is None):
            problems.append("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (Basic Information → App Credentials)")
        if self.oauth_enabled:
            pass
        elif self.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN is not set (the xoxb- token from OAuth & Permissions), "
                            "or set SLACK_CLIENT_ID and SLACK_CLIENT_SECRET to serve many workspaces")
        elif not self.slack_bot_token.get_secret_value().startswith("xoxb-"):
            problems.append("SLACK_BOT_TOKEN must start with xoxb-")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            problems.append("SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret)")
        if self.slack_app_token is not None and not self.slack_app_token.get_secret_value().startswith("xapp-"):
            problems.append("SLACK_APP_TOKEN must start with xapp- (an app-level token with connections:write)")
        if problems:
            raise SettingsError("\n".join(problems))


def load_settings(**overrides: object) -> Settings:
    """Build settings, turning pydantic's errors into one line per offending variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{name}: {message}")
        raise SettingsError("\n".join(lines)) from None
