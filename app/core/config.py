"""Runtime settings, read once from FILROUGE_* environment variables."""

import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BeforeValidator,
    Field,
    IPvAnyNetwork,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

VAR_DIR = Path("var")


def _comma_separated(value):
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _upper(value):
    return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FILROUGE_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{VAR_DIR}/filrouge.db"
    # A read replica (PostgreSQL streaming standby) for the reading work: reports, the national
    # view, their downloads and the data feed. Empty: they read the database above.
    read_database_url: str = ""
    # Empty means "generate one and keep it in var/secret_key" (fine for one machine;
    # set it explicitly when several app processes share a database).
    secret_key: str = ""
    session_hours: int = 10
    api_token_minutes: int = 60
    jwt_issuer: str = "filrouge"
    jwt_audience: str = "filrouge-api"
    login_max_failures: int = 5
    login_window_minutes: int = 15
    idle_case_days: int = 30
    # An episode started by mistake, with nothing recorded under it, may be cancelled for
    # this many days after it started.
    episode_cancel_days: int = Field(default=7, ge=0)
    # Cookies get the Secure flag unless the app is served on localhost.
    cookie_secure: bool | None = None
    default_time_zone: str = "Europe/Paris"
    # Where e-mailed links point: the address beneficiaries and partners reach the app at.
    public_base_url: str = "http://127.0.0.1:8000"
    # Uploaded files and issued PDFs, outside the web root.
    storage_dir: Path = VAR_DIR / "files"
    # ---- files in S3-compatible object storage (app/core/storage_s3.py) ----
    # "s3://bucket/prefix" keeps every file in that bucket (storage_dir then only holds
    # scratch files: uploads being received, archives being built); empty: storage_dir.
    # The credentials come from these settings only, never from ~/.aws or the environment.
    storage_url: str = ""
    storage_endpoint_url: str = ""  # e.g. https://s3.fr-par.scw.cloud; empty: AWS
    storage_region: str = ""
    storage_access_key_id: str = ""
    storage_secret_access_key: SecretStr = SecretStr("")
    max_upload_mb: int = 10
    signed_link_days: int = 30
    # Satisfaction and utility surveys: one reminder this many days after the invitation,
    # the utility survey this many months after the last level ends, links valid this long.
    survey_reminder_days: int = Field(default=7, ge=1)
    survey_utility_months: int = Field(default=6, ge=1)
    survey_link_days: int = Field(default=30, ge=1)
    # A link to the personal space (/mon-espace) opens it this long after it was sent.
    personal_space_link_days: int = Field(default=7, ge=1, le=90)
    # « Archive des livrables » (app/services/deliverables/period_archive.py): an archive of
    # more documents is refused (a narrower period is asked); a ready one is downloadable this
    # many days, then the worker deletes it; its progress is written every this many documents.
    archive_max_documents: int = Field(default=20000, ge=1)
    archive_days: int = Field(default=7, ge=1, le=90)
    archive_progress_every: int = Field(default=50, ge=1)
    # The audit trail's entries are purged by the worker this many months after they were
    # written (the CNIL asks for access logs to be kept six months to a year).
    audit_retention_months: int = Field(default=12, ge=1, le=120)
    # Outgoing e-mail. Without a host, the worker writes messages to var/mail (a Maildir)
    # so that a developer can read them; set the host in production.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"  # "starttls", "ssl" or "none"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout_seconds: float = 30
    mail_sender: str = "Fil rouge <ne-pas-repondre@filrouge.localhost>"
    mail_dir: Path = VAR_DIR / "mail"
    outbox_max_attempts: int = 8
    # Outgoing SMS (app/services/messaging/sms.py). Without a gateway URL, the worker writes
    # each SMS as a JSON file in var/sms; with one, it POSTs them there with the token as a
    # Bearer (the request's format is in the README). The gateway calls back
    # /api/sms/callback with the callback token; empty, the callback route answers 404.
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    sms_callback_token: str = ""
    sms_dir: Path = VAR_DIR / "sms"
    sms_timeout_seconds: float = Field(default=15, gt=0)
    # A referral sent to a partner expires when the partner has not answered after this long.
    referral_answer_days: int = 15
    # Beneficiaries get a reminder this many hours before their appointment.
    reminder_hours: int = 48
    # How long a worker owns a message it is sending; past it, another worker may retry it
    # (after a crash: the message waits this long). One message's SMTP exchange must end by
    # the lease less one SMTP timeout (90 s by default), each step within the timeout.
    outbox_lease_seconds: int = 120
    # The national phone line shown on /rendez-vous when no operator serves a postcode
    # (national form, e.g. « 09 72 01 02 03 »); empty: none shown.
    national_phone: str = ""
    # Video appointments get a room under this address (Jitsi, BBB…, e.g.
    # "https://visio.example.org/"); empty: the counsellor sends the link.
    video_base_url: str = ""
    # Requests allowed per IP, e-mail and phone on the public booking pages and API:
    # "N/second", "N/minute", "N/hour" or "N/day". Raise it for load checks.
    public_rate_limit: str = "20/minute"
    # Who reads the API documentation (/docs, /redoc, /openapi.json): signed-in staff only,
    # anyone, or no one (404).
    api_docs: Literal["staff", "public", "off"] = "staff"
    # The reverse proxies allowed to say, in X-Forwarded-For, whom they forward for: addresses
    # or networks, comma-separated ("127.0.0.1, 10.0.0.0/8"). None by default: the header is
    # ignored and the connecting peer is the client (app/web/client_address.py).
    trusted_proxies: Annotated[
        list[IPvAnyNetwork], NoDecode, BeforeValidator(_comma_separated)
    ] = []
    # The app's and the server's log lines from this level on (app/core/logging.py); JSON
    # lines on stderr, or "console" for a developer's terminal (`make run`).
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)] = (
        "INFO"
    )
    log_format: Literal["json", "console"] = "json"

    # ---- Watching the service (README, « Run in production ») ----
    # The bearer token Prometheus sends to read /metrics; unset, /metrics answers 404.
    metrics_token: SecretStr | None = None

    # ---- several nodes (issue 22) ----
    # Connections each process keeps open to the database; under a burst it opens as many again
    # (SQLAlchemy's max_overflow), and /healthz has one more of its own (two at most). Every web
    # process of every node and every worker has its pool: keep
    # processes × (2 × pool + 2) within PostgreSQL's max_connections (`make load` prints both).
    database_pool_size: int = Field(default=10, ge=1, le=100)

    @field_validator("mail_sender")
    @classmethod
    def _sender_on_one_line(cls, value: str) -> str:
        # It is the From header of every e-mail: a line break would add headers to all of them.
        if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
            raise ValueError("FILROUGE_MAIL_SENDER must fit on one line")
        return value

    @field_validator("video_base_url")
    @classmethod
    def _video_base_is_a_web_address(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
            raise ValueError(
                "FILROUGE_VIDEO_BASE_URL: an http(s) address, e.g. https://visio.example.org/"
            )
        # Rooms are appended to it: one slash between the base and the room's name.
        return value if not value or value.endswith("/") else value + "/"

    @field_validator("storage_url")
    @classmethod
    def _storage_url_is_s3(cls, value: str) -> str:
        value = value.strip()
        if value and not re.fullmatch(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\s?#]*)?", value):
            raise ValueError("FILROUGE_STORAGE_URL: s3://bucket or s3://bucket/prefix")
        return value

    @model_validator(mode="after")
    def _s3_has_credentials(self) -> "Settings":
        if self.storage_url and not (
            self.storage_access_key_id and self.storage_secret_access_key.get_secret_value()
        ):
            raise ValueError(
                "FILROUGE_STORAGE_URL needs FILROUGE_STORAGE_ACCESS_KEY_ID and"
                " FILROUGE_STORAGE_SECRET_ACCESS_KEY"
            )
        return self

    @model_validator(mode="after")
    def _lease_covers_a_send(self) -> "Settings":
        if self.outbox_lease_seconds < 2 * self.smtp_timeout_seconds:
            raise ValueError(
                "FILROUGE_OUTBOX_LEASE_SECONDS must be at least twice FILROUGE_SMTP_TIMEOUT_SECONDS:"
                " a message's SMTP exchange gets the lease less one timeout"
            )
        return self

    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = VAR_DIR / "secret_key"
        if not path.exists():
            VAR_DIR.mkdir(exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


@lru_cache
def get_settings() -> Settings:
    return Settings()
