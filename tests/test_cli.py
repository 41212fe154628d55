"""The operator's command: accounts, grants, cases and the audit log, through `speurder` itself."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT, base_settings, settings_env


def speurder(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "search_api.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )


def test_grants_and_cases_from_the_command_line_are_audited(tmp_path: Path) -> None:
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'ops.db'}",
        audit_database_url=f"sqlite:///{tmp_path / 'audit.db'}",
    )
    env = {**settings_env(settings), "SPEURDER_NEW_PASSWORD": "een wachtwoord van lengte"}
    assert speurder(env, "user", "add", "els", "--role", "investigator", "--unit", "PZ Gent").returncode == 0
    assert speurder(env, "user", "grant", "els", "islp", "--until", "2027-01-01").returncode == 0
    assert speurder(env, "case", "create", "GE.55.L1.000001/2026", "Drugs", "--lead", "els").returncode == 0
    refused = speurder(env, "user", "add", "x", "--role", "sheriff", "--unit", "u")
    assert refused.returncode == 1 and "unknown role" in refused.stderr
    verify = speurder(env, "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "3 events" in verify.stdout  # user added, grant, case created


def test_audit_verify_fails_on_a_broken_chain(tmp_path: Path) -> None:
    import sqlite3

    audit_db = tmp_path / "audit.db"
    settings = base_settings(
        database_url=f"sqlite:///{tmp_path / 'ops.db'}", audit_database_url=f"sqlite:///{audit_db}"
    )
    env = {**settings_env(settings), "SPEURDER_NEW_PASSWORD": "een wachtwoord van lengte"}
    speurder(env, "user", "add", "jef", "--role", "analyst", "--unit", "FGP")
    speurder(env, "user", "grant", "jef", "ang")
    with sqlite3.connect(audit_db) as conn:
        conn.execute("DROP TRIGGER audit_no_update")
        conn.execute("UPDATE audit_events SET actor = 'iemand anders' WHERE seq = 1")
    broken = speurder(env, "audit", "verify")
    assert broken.returncode == 1
    assert "broken at event 1" in broken.stderr
