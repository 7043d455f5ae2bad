"""single sign-on: the provider's issuer and subject id on each account

`app_user.sso_issuer` and `app_user.sso_subject` name the person at the OpenID Connect provider (stored at their
first single sign-on), unique together, so a changed email address is still the same account. Both are empty for
accounts that have never signed in that way.

Revision ID: e1b7c3d5f8a2
Revises: d0a6b2c4f7e1
Create Date: 2026-12-06 11:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e1b7c3d5f8a2"
down_revision: str | None = "d0a6b2c4f7e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD/DROP COLUMN and a unique index (SQLite has all three): a batch copy of app_user would break the keys
    # that point at it. Rows without an SSO identity (both empty) never clash: NULLs are distinct in a unique index.
    op.add_column("app_user", sa.Column("sso_issuer", sa.String(length=255), nullable=True))
    op.add_column("app_user", sa.Column("sso_subject", sa.String(length=255), nullable=True))
    op.create_index("ix_app_user_sso_issuer_sso_subject", "app_user", ["sso_issuer", "sso_subject"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_app_user_sso_issuer_sso_subject", table_name="app_user")
    op.drop_column("app_user", "sso_subject")
    op.drop_column("app_user", "sso_issuer")
