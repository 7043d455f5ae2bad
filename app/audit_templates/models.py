"""Published template versions: immutable once loaded, identified by key + version, checked by content hash."""

from datetime import datetime
from typing import Any

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app import clock
from app.db import JSONType, UTCDateTime


class TemplateVersion(SQLModel, table=True):
    __tablename__ = "template_version"
    __table_args__ = (UniqueConstraint("key", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=60)
    version: int
    title: str = Field(max_length=200)
    kind: str = Field(max_length=20)
    description: str = ""
    content_hash: str = Field(max_length=64)
    # The validated definition as data (pydantic dump by alias); read back with TemplateDefinition.model_validate.
    definition: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONType, nullable=False))
    source_file: str = Field(max_length=200)
    loaded_at: datetime = Field(default_factory=clock.now, sa_column=Column(UTCDateTime, nullable=False))
