"""The sign-in limit under a burst, as production serves it: gunicorn with three worker
processes of four threads on PostgreSQL, 30 wrong passwords and the right one sent at once
from one address. The limit's state is the database, so every process sees the same count."""

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from shared.access.signin import MAX_FAILED_LOGINS
from shared.core.db import SessionFactory
from shared.models import AuditEntry
from tests.support import fuzz, stack
from tests.support.web import PASSWORD, add_user

pytestmark = pytest.mark.postgres
STRANGER = "198.51.100.40"
OFFICE = "10.20.0.5"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


class Browser:
    """A browser of its own (cookies), behind the one trusted proxy that names its address."""

    def __init__(self, base: str, address: str) -> None:
        self.base = base
        self.address = address
        jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(jar), NoRedirect()
        )
        self.token = self._csrf_token()

    def _csrf_token(self) -> str:
        with self.opener.open(self._request("/login"), timeout=30) as response:
            match = re.search(r'name="csrf_token" value="([^"]+)"', response.read().decode())
        assert match is not None
        return match.group(1)

    def _request(self, path: str, data: bytes | None = None) -> urllib.request.Request:
        return urllib.request.Request(
            self.base + path, data, headers={"X-Forwarded-For": self.address}
        )

    def sign_in(self, password: str) -> int:
        form = {"username": "admin", "password": password, "csrf_token": self.token}
        request = self._request("/login", urllib.parse.urlencode(form).encode())
        try:
            with self.opener.open(request, timeout=60) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            with error:
                return error.code


def test_a_burst_through_three_gunicorn_processes_is_judged_five_times(
    pg_session_factory: SessionFactory, pg_url: str, redis_url: str, tmp_path: Path
):
    add_user(pg_session_factory, "admin", "district_admin")
    env = stack.service_env(pg_url, redis_url, tmp_path) | {"CPB_PROXY_HOPS": "1"}
    with fuzz.gunicorn(env, workers=3) as base:
        browsers = [Browser(base, STRANGER) for _ in range(31)]
        passwords = ["wrong password"] * 30 + [PASSWORD]
        statuses = [0] * 31
        start = threading.Barrier(31)

        def post(n: int) -> None:
            start.wait()
            statuses[n] = browsers[n].sign_in(passwords[n])

        threads = [threading.Thread(target=post, args=(n,)) for n in range(31)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after_burst = Browser(base, STRANGER).sign_in(PASSWORD)
        elsewhere = Browser(base, OFFICE).sign_in(PASSWORD)

    wrong = Counter(statuses[:30])
    assert (wrong[401], wrong[429]) == (MAX_FAILED_LOGINS, 30 - MAX_FAILED_LOGINS)
    assert statuses[30] in (302, 429)
    assert (after_burst, elsewhere) == (429, 302)
    with pg_session_factory() as session:
        rows = session.execute(
            select(AuditEntry.action, func.count(), func.sum(AuditEntry.times))
            .where(AuditEntry.remote_addr == STRANGER)
            .group_by(AuditEntry.action)
        )
        recorded = {action: (entries, times) for action, entries, times in rows}
    throttled = 30 - MAX_FAILED_LOGINS + (statuses[30] == 429) + 1  # and after_burst
    expected = {"login.failed": (5, 5), "login.throttled": (1, throttled)}
    if statuses[30] == 302:
        expected["login"] = (1, 1)
    assert recorded == expected
