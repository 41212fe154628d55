"""Cases: a number, a title, a team with roles. Membership is one of the two ways to see a record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.models import CASE_ROLES, Case, CaseMember, User
from case_store.users import UserError, get_user


class CaseError(ValueError):
    pass


@dataclass(frozen=True)
class Member:
    username: str
    display_name: str
    unit: str
    role: str


@dataclass(frozen=True)
class CaseView:
    number: str
    title: str
    description: str
    created_by: str
    created_at: datetime
    members: tuple[Member, ...]

    def role_of(self, username: str) -> str | None:
        return next((m.role for m in self.members if m.username == username), None)


def create_case(session: Session, number: str, title: str, *, created_by: str, description: str = "") -> Case:
    """A new case; its creator leads it."""
    number = number.strip()
    if not number or len(number) > 80:
        raise CaseError("a case number has 1 to 80 characters")
    if session.scalar(select(Case).where(Case.number == number)):
        raise CaseError(f"case {number} already exists")
    case = Case(number=number, title=title.strip() or number, description=description, created_by=created_by)
    session.add(case)
    session.flush()
    session.add(CaseMember(case_id=case.id, user_id=get_user(session, created_by).id, role="lead"))
    return case


def case_row(session: Session, number: str) -> Case:
    case = session.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise CaseError(f"no case {number}")
    return case


def add_member(session: Session, number: str, username: str, role: str = "member") -> None:
    if role not in CASE_ROLES:
        raise CaseError(f"unknown case role {role!r}; choose one of {', '.join(CASE_ROLES)}")
    case = case_row(session, number)
    try:
        user = get_user(session, username)
    except UserError as exc:
        raise CaseError(str(exc)) from exc
    member = session.scalar(
        select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.user_id == user.id)
    )
    if member is None:
        session.add(CaseMember(case_id=case.id, user_id=user.id, role=role))
    else:
        member.role = role


def remove_member(session: Session, number: str, username: str) -> bool:
    case = case_row(session, number)
    user = get_user(session, username)
    member = session.scalar(
        select(CaseMember).where(CaseMember.case_id == case.id, CaseMember.user_id == user.id)
    )
    if member is None:
        return False
    session.delete(member)
    return True


def view_case(session: Session, number: str) -> CaseView:
    case = case_row(session, number)
    rows = session.execute(
        select(User.username, User.display_name, User.unit, CaseMember.role)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case.id)
        .order_by(User.username)
    )
    return CaseView(
        number=case.number,
        title=case.title,
        description=case.description,
        created_by=case.created_by,
        created_at=case.created_at,
        members=tuple(Member(*row) for row in rows),
    )


def cases_of(session: Session, username: str) -> list[tuple[str, str, str]]:
    """(number, title, role) of every case the user is a member of."""
    user = get_user(session, username)
    rows = session.execute(
        select(Case.number, Case.title, CaseMember.role)
        .join(CaseMember, CaseMember.case_id == Case.id)
        .where(CaseMember.user_id == user.id)
        .order_by(Case.created_at.desc())
    )
    return [(number, title, role) for number, title, role in rows]


def ensure_case(session: Session, number: str, *, title: str | None = None, lead: str) -> None:
    """Create the case if it does not exist (seeding and demos); leave an existing one as it is."""
    if session.scalar(select(Case).where(Case.number == number)) is None:
        create_case(session, number, title or number, created_by=lead)
