"""Settings read once at start-up from the environment and `.env` (the composition root passes them down)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///aurum.db"
SLACK_API_URL = "https://slack.com/api/"
SECRET_NAMES = ("github_token", "jira_token", "sonar_token", "pagerduty_token")
PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"


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
                     "smtp_host", "smtp_user", "aurum_survey_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

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
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None

    def check_for_slack(self) -> None:
        """Slack mode needs a bot token and, over HTTP, a signing secret; name each missing one."""
        problems = []
        if self.slack_bot_token is None:
            problems.append("SLACK_BOT_TOKEN is not set (the xoxb- token from OAuth & Permissions)")
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
