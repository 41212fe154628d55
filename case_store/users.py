"""Accounts, passwords (argon2), lock-out, and the grants that decide what a user may see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import ROLES, Case, CaseMember, RegisterGrant, UnitGrant, User, as_utc

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)

_hasher = PasswordHasher()


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class Entitlements:
    """Who someone is and what they may consult, as of now."""

    username: str
    display_name: str
    role: str
    unit: str
    clearance: int
    registers: frozenset[str]
    case_numbers: frozenset[str]


def add_user(
    session: Session,
    username: str,
    password: str,
    *,
    role: str,
    unit: str,
    display_name: str | None = None,
    clearance: int = 1,
) -> User:
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not 0 <= clearance <= 3:
        raise UserError("clearance is a level from 0 to 3")
    if len(password) < 12:
        raise UserError("a password has at least 12 characters")
    if session.scalar(select(User).where(User.username == username)):
        raise UserError(f"user {username!r} already exists")
    user = User(
        username=username,
        display_name=display_name or username,
        password_hash=_hasher.hash(password),
        role=role,
        unit=unit,
        clearance=clearance,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def grant_register(
    session: Session, username: str, register: str, *, expires_at: datetime | None = None, by: str = "system"
) -> None:
    user = get_user(session, username)
    grant = session.scalar(
        select(RegisterGrant).where(RegisterGrant.user_id == user.id, RegisterGrant.register == register)
    )
    if grant is None:
        session.add(RegisterGrant(user_id=user.id, register=register, expires_at=expires_at, granted_by=by))
    else:
        grant.expires_at = expires_at
        grant.granted_by = by


def grant_unit_register(
    session: Session, unit: str, register: str, *, expires_at: datetime | None = None, by: str = "system"
) -> None:
    grant = session.scalar(select(UnitGrant).where(UnitGrant.unit == unit, UnitGrant.register == register))
    if grant is None:
        session.add(UnitGrant(unit=unit, register=register, expires_at=expires_at, granted_by=by))
    else:
        grant.expires_at = expires_at
        grant.granted_by = by


def revoke_register(session: Session, username: str, register: str) -> bool:
    user = get_user(session, username)
    grant = session.scalar(
        select(RegisterGrant).where(RegisterGrant.user_id == user.id, RegisterGrant.register == register)
    )
    if grant is None:
        return False
    session.delete(grant)
    return True


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right and the account not locked; counts failures for lock-out."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        # Hash anyway so a wrong user name costs as much time as a wrong password.
        _hasher.hash(password)
        return None
    now = datetime.now(UTC)
    locked_until = as_utc(user.locked_until)
    if locked_until and locked_until > now:
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return None
    user.failed_logins = 0
    user.locked_until = None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def entitlements(session: Session, username: str) -> Entitlements:
    """What a user may see, read afresh on every request (a withdrawn grant counts at once): three
    column queries, no objects loaded, since every search and every page view asks."""
    user = session.execute(
        select(User.id, User.username, User.display_name, User.role, User.unit, User.clearance).where(
            User.username == username
        )
    ).first()
    if user is None:
        raise UserError(f"no user {username!r}")
    now = datetime.now(UTC)
    grants = session.execute(
        select(RegisterGrant.register, RegisterGrant.expires_at)
        .where(RegisterGrant.user_id == user.id)
        .union_all(select(UnitGrant.register, UnitGrant.expires_at).where(UnitGrant.unit == user.unit))
    )
    registers = frozenset(
        register for register, expires_at in grants if expires_at is None or (as_utc(expires_at) or now) > now
    )
    cases = frozenset(
        session.scalars(
            select(Case.number)
            .join(CaseMember, CaseMember.case_id == Case.id)
            .where(CaseMember.user_id == user.id)
        )
    )
    return Entitlements(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        unit=user.unit,
        clearance=user.clearance,
        registers=registers,
        case_numbers=cases,
    )
