"""`cxport user add`, `token create`, `settings`: the service's people from the command line."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import create_engine, text

from cxport.cli import main


def run(*args: str, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_users_and_tokens(tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    assert (
        run(
            "user",
            "add",
            "--db",
            db,
            "--email",
            "ana@x.test",
            "--role",
            "admin",
            "--password-stdin",
            stdin="s3cret\n",
        )[0]
        == 0
    )
    code, _, err = run("user", "add", "--db", db, "--email", "rui@x.test", "--role", "supervisor")
    assert code == 2 and "--channel" in err and "supervisor needs" in err
    code, _, err = run(
        "user", "add", "--db", db, "--email", "bea@x.test", "--role", "agent", "--channel", "ch-1"
    )
    assert code == 2 and "supervisors only" in err
    code, _, err = run("user", "add", "--db", db, "--email", "not-an-address", "--role", "admin")
    assert code == 2 and "--email" in err
    code, _, err = run("token", "create", "--db", db, "--email", "nobody@x.test")
    assert code == 2 and "no user nobody@x.test" in err
    code, token, _ = run("token", "create", "--db", db, "--email", "ana@x.test", "--name", "loader")
    assert code == 0 and token.startswith("cx_") and len(token.strip()) > 40
    # Only hashes are kept: neither the token nor the password is in the control database.
    engine = create_engine(f"sqlite:///{db}.control.sqlite")
    with engine.connect() as con:
        dump = " ".join(
            str(v)
            for table in ("cx_tokens", "cx_users")
            for row in con.execute(text(f"SELECT * FROM {table}"))
            for v in row
        )
    engine.dispose()
    assert token.strip() not in dump and "s3cret" not in dump and "$argon2" in dump
    # A second workspace begins with its first user; the same e-mail may be in both.
    assert (
        run(
            "user",
            "add",
            "--db",
            db,
            "--email",
            "ana@x.test",
            "--role",
            "agent",
            "--workspace",
            "other",
        )[0]
        == 0
    )


def test_settings_lists_every_variable() -> None:
    code, out, _ = run("settings")
    assert code == 0
    for name in (
        "CXPORT_SMTP_HOST",
        "CXPORT_RETENTION",
        "CXPORT_MAX_RUNNING_PER_WORKSPACE",
        "CXPORT_SECRET_KEY",
        "CXPORT_LEASE",
    ):
        assert name in out
