"""Deep-paging cursors: a short token stands for an engine's point-in-time id, which can run to many
kilobytes (it names every shard of every index behind the alias) and would not fit in an address."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from case_store.db import transaction
from case_store.models import SearchCursor, as_utc, utcnow


class CursorStore:
    def __init__(self, sessions: sessionmaker[Session], keep: timedelta = timedelta(minutes=30)) -> None:
        self.sessions = sessions
        self.keep = keep

    def put(self, pit_id: str, username: str) -> str:
        token = secrets.token_urlsafe(24)
        now = utcnow()
        with transaction(self.sessions) as session:
            session.execute(delete(SearchCursor).where(SearchCursor.expires_at < now))
            session.add(
                SearchCursor(token=token, pit_id=pit_id, username=username, expires_at=now + self.keep)
            )
        return token

    def get(self, token: str, username: str) -> str | None:
        """The point in time behind a token, for the user it was handed to; None once expired."""
        with self.sessions() as session:
            found = session.scalars(select(SearchCursor).where(SearchCursor.token == token)).first()
            if found is None or found.username != username:
                return None
            expires = as_utc(found.expires_at)
            if expires is None or expires < utcnow():
                return None
            return found.pit_id
