"""Passwords are kept as argon2id hashes (argon2-cffi, with OWASP's parameters: 19 MiB, two
passes, one lane); a hash of an older kind (scrypt) still signs in, and is replaced by an
argon2id one at that sign-in."""

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from shared.access.signin import authenticate
from shared.core.db import SessionFactory
from shared.models import User
from tests.support.web import PASSWORD, add_user

ARGON2ID = "$argon2id$v=19$m=19456,t=2,p=1$"


def stored_hash(factory: SessionFactory, username: str) -> str:
    with factory() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == username))
    assert stored is not None
    return stored


def test_a_new_password_is_an_argon2id_hash(session_factory: SessionFactory):
    add_user(session_factory, "ada", "viewer")
    assert stored_hash(session_factory, "ada").startswith(ARGON2ID)


def test_an_older_hash_signs_in_and_is_replaced(session_factory: SessionFactory):
    add_user(session_factory, "ada", "viewer")
    old = generate_password_hash(PASSWORD, method="scrypt")
    with session_factory.begin() as session:
        session.scalars(select(User).where(User.username == "ada")).one().password_hash = old
    with session_factory.begin() as session:
        assert authenticate(session, "ada", "not the password", remote_addr="10.0.0.1") is None
    assert stored_hash(session_factory, "ada") == old  # a wrong password changes nothing
    with session_factory.begin() as session:
        assert authenticate(session, "ada", PASSWORD, remote_addr="10.0.0.1") is not None
    replaced = stored_hash(session_factory, "ada")
    assert replaced.startswith(ARGON2ID)
    with session_factory.begin() as session:
        assert authenticate(session, "ada", PASSWORD, remote_addr="10.0.0.1") is not None
    assert stored_hash(session_factory, "ada") == replaced  # a current hash stays as it is
