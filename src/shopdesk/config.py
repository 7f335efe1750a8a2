"""Runtime configuration from environment variables (prefix SHOPDESK_) or a `.env` file."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPDESK_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means SQLite under data_dir"
    )
    redis_url: str = Field(default="", description="enables the Redis broker between processes")
    secret_key: str = Field(default="", description="signs cookie sessions and CSRF tokens")
    data_dir: Path = Field(default=Path("var"), description="database, attachments")
    host: str = "127.0.0.1"
    port: int = 8000
    agent_capacity: int = Field(default=5, ge=1, description="default open conversations/agent")
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_message_chars: int = Field(default=4000, ge=1)
    max_attachment_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    max_attachment_pixels: int = Field(default=25_000_000, ge=1)
    max_attachment_pages: int = Field(default=50, ge=1, description="pages of a PDF evidence file")
    cookie_secure: bool = False
    token_ttl_days: int = Field(default=30, ge=1)
    timer_interval_seconds: float = Field(
        default=5.0, ge=0, description="timer loop period in seconds; 0 disables the loop"
    )
    chatbot_encoder: bool = Field(
        default=False,
        description="use the optional sentence encoder in the FAQ matcher (pip extra `semantic`)",
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'shopdesk.db').resolve()}"

    @property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"
