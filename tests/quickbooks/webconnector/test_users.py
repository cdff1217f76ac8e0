"""Web Connector users: salted hashes, constant-time checks, throttled failures, no password in logs."""

from __future__ import annotations

import logging

import pytest

from qbsf.errors import ConfigError
from qbsf.quickbooks.webconnector.users import LoginThrottle, UserDirectory, hash_password, verify_password


def test_hashes_are_salted_and_verify() -> None:
    first, second = hash_password("hunter2-hunter2"), hash_password("hunter2-hunter2")
    assert first != second and first.startswith("scrypt$")
    assert "hunter2" not in first
    assert verify_password("hunter2-hunter2", first)
    assert not verify_password("hunter2-hunter3", first)
    assert not verify_password("x", "garbage")
    assert not verify_password("x", "md5$1$2$3$AAAA$BBBB")


def test_authenticate_binds_user_to_company_and_logs_no_password(caplog) -> None:
    users = UserDirectory()
    users.add("Acme-QBWC", "right-password", "acme")
    caplog.set_level(logging.INFO)
    assert users.authenticate(" acme-qbwc ", "right-password").company == "acme"
    assert users.authenticate("acme-qbwc", "wrong-password", client="10.0.0.9") is None
    assert users.authenticate("nobody", "wrong-password") is None
    assert "wrong-password" not in caplog.text and "right-password" not in caplog.text
    assert "login failed for 'acme-qbwc' from 10.0.0.9" in caplog.text
    assert "right-password" not in repr(users.get("acme-qbwc"))


def test_a_user_serves_one_company_only() -> None:
    users = UserDirectory()
    users.add("shared", "password-1", "acme")
    with pytest.raises(ConfigError, match="already serves company 'acme'"):
        users.add("SHARED", "password-2", "globex")
    with pytest.raises(ConfigError):
        users.add_hashed("someone", "plaintext", "acme")


def test_wrong_passwords_from_elsewhere_never_lock_the_right_password_out(caplog) -> None:
    # the attack: five wrong passwords every 15 minutes for a guessable user name kept a company from syncing
    now = [1000.0]
    users = UserDirectory(LoginThrottle(clock=lambda: now[0]))
    users.add("acme-qbwc", "right-password", "acme")
    caplog.set_level(logging.WARNING)
    for _ in range(50):
        assert users.authenticate("acme-qbwc", "guess", client="203.0.113.9") is None
        now[0] += 1
    assert users.authenticate("acme-qbwc", "right-password", client="10.0.0.5").company == "acme"
    # …and from the attacker's address even the right password waits out the delay (no guessing oracle)
    assert users.authenticate("acme-qbwc", "right-password", client="203.0.113.9") is None
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals and all("from 203.0.113.9" in line for line in refusals)
    assert "guess" not in caplog.text and "right-password" not in caplog.text


def test_delays_grow_with_each_failure_and_end() -> None:
    now = [0.0]
    throttle = LoginThrottle(free_failures=3, base_delay=2.0, max_delay=60.0, clock=lambda: now[0])
    users = UserDirectory(throttle)
    users.add("acme-qbwc", "right-password", "acme")
    waits = []
    for _ in range(9):
        refusal = throttle.check("acme-qbwc", "10.1.1.1")
        if refusal is not None:
            now[0] += refusal.retry_in  # a patient guesser waits each delay out
        assert users.authenticate("acme-qbwc", "guess", client="10.1.1.1") is None
        refusal = throttle.check("acme-qbwc", "10.1.1.1")
        waits.append(round(refusal.retry_in) if refusal else 0)
    assert waits == [0, 0, 0, 2, 4, 8, 16, 32, 60]  # three free, then doubling up to the cap
    assert users.authenticate("acme-qbwc", "right-password", client="10.1.1.1") is None
    now[0] += 60
    assert users.authenticate("acme-qbwc", "right-password", client="10.1.1.1") is not None
    assert throttle.check("acme-qbwc", "10.1.1.1") is None  # a good login forgets the pair


def test_one_address_guessing_many_user_names_is_slowed_down() -> None:
    now = [0.0]
    throttle = LoginThrottle(address_free_failures=4, clock=lambda: now[0])
    users = UserDirectory(throttle)
    users.add("acme-qbwc", "right-password", "acme")
    for name in ("alice", "bob", "carol", "dave", "erin"):
        assert users.authenticate(name, "x", client="10.1.1.1") is None
    refusal = throttle.check("frank", "10.1.1.1")
    assert refusal is not None and refusal.by_address and "from this address for any user" in str(refusal)
    assert users.authenticate("acme-qbwc", "right-password", client="10.2.2.2") is not None


def test_forgotten_failures_cannot_grow_memory() -> None:
    now = [0.0]
    throttle = LoginThrottle(forget_after=60, max_tracked=100, clock=lambda: now[0])
    for i in range(500):
        throttle.failed(f"guess-{i}", "10.9.9.9")
    assert throttle.tracked() <= 101 and throttle.check("x", "10.9.9.9") is not None
    now[0] = 10_000
    assert throttle.tracked() == 0 and throttle.check("x", "10.9.9.9") is None


def test_statuses_say_who_from_where_and_until_when() -> None:
    now, wall = [100.0], [1_700_000_000.0]
    throttle = LoginThrottle(free_failures=1, base_delay=30, clock=lambda: now[0], wall_clock=lambda: wall[0])
    throttle.failed("acme-qbwc", "203.0.113.9")
    throttle.failed("acme-qbwc", "203.0.113.9")
    pair = next(row for row in throttle.statuses() if row.username)
    assert (pair.username, pair.client, pair.failures) == ("acme-qbwc", "203.0.113.9", 2)
    assert pair.blocked_until == wall[0] + 30 and pair.last_failure == wall[0]


def test_the_hash_carries_its_cost() -> None:
    cheap = hash_password("password-1", cost=2**10)
    assert cheap.split("$")[1] == "1024" and verify_password("password-1", cheap)
    assert hash_password("password-1").split("$")[1] == str(2**14)


def test_a_verified_password_is_recognised_without_scrypt_and_a_guess_never_is(monkeypatch) -> None:
    from qbsf.quickbooks.webconnector import users as users_module

    checked: list[str] = []
    real = users_module.verify_password
    monkeypatch.setattr(users_module, "verify_password", lambda password, stored: (checked.append(password),
                                                                                   real(password, stored))[1])
    users = UserDirectory()
    users.add_hashed("acme-qbwc", hash_password("right-password", cost=2**10), "acme")
    for _session in range(3):  # the Web Connector logs in every few minutes with the same password
        assert users.authenticate("acme-qbwc", "right-password", client="10.0.0.5").company == "acme"
    assert checked == ["right-password"], "scrypt ran for the first login only"
    assert users.authenticate("acme-qbwc", "right-passwore", client="10.0.0.6") is None
    assert checked[-1] == "right-passwore", "a wrong password always goes through scrypt"
    users.add_hashed("acme-qbwc", hash_password("new-password", cost=2**10), "acme")  # the password was changed
    assert users.authenticate("acme-qbwc", "right-password", client="10.0.0.5") is None
    assert users.authenticate("acme-qbwc", "new-password", client="10.0.0.5").company == "acme"
    users.memo.seconds = -1.0  # type: ignore[attr-defined]  # the default memo: this process's
    users.add_hashed("acme-qbwc", hash_password("new-password", cost=2**10), "acme")
    before = len(checked)
    users.authenticate("acme-qbwc", "new-password", client="10.0.0.5")
    users.authenticate("acme-qbwc", "new-password", client="10.0.0.5")
    assert len(checked) == before + 2, "past its time a password is verified with scrypt again"


def test_the_remembered_logins_live_in_the_memo_the_directory_is_given(monkeypatch) -> None:
    from qbsf.quickbooks.webconnector import users as users_module
    from qbsf.quickbooks.webconnector.users import WebConnectorUser

    class Memo:  # e.g. one every worker process shares
        def __init__(self) -> None:
            self.kept: dict[tuple[str, str], str] = {}
            self.asked: list[str] = []

        def remember(self, user: WebConnectorUser, password: str) -> None:
            self.kept[(user.username, user.password_hash)] = password

        def remembered(self, user: WebConnectorUser, password: str) -> bool:
            self.asked.append(user.username)
            return self.kept.get((user.username, user.password_hash)) == password

    checked: list[str] = []
    real = users_module.verify_password
    monkeypatch.setattr(users_module, "verify_password", lambda password, stored: (checked.append(password),
                                                                                   real(password, stored))[1])
    memo = Memo()
    stored = hash_password("right-password", cost=2**10)
    first, second = UserDirectory(memo=memo), UserDirectory(memo=memo)
    for users in (first, second):
        users.add_hashed("acme-qbwc", stored, "acme")
    assert first.authenticate("acme-qbwc", "right-password").company == "acme"
    assert second.authenticate("ACME-qbwc ", "right-password").company == "acme"
    assert checked == ["right-password"], "the second directory found the login in the memo"
    assert second.authenticate("acme-qbwc", "wrong") is None and checked[-1] == "wrong"
    assert second.authenticate("nobody", "right-password") is None
    assert memo.asked == ["acme-qbwc", "acme-qbwc", "acme-qbwc"], "unknown user names never reach the memo"
    assert list(memo.kept) == [("acme-qbwc", stored)], "only a password scrypt accepted is remembered"
