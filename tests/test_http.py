"""The client address behind our own proxies, how addresses are grouped for rate limits, and
what happens after commit when the broker cannot be reached."""

import pytest
from django.test import RequestFactory, override_settings

from common.http import client_ip, rate_limit_key


def request(remote: str, forwarded: str = "") -> object:
    extra = {"REMOTE_ADDR": remote}
    if forwarded:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_forwarded_for_is_ignored() -> None:
    assert client_ip(request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.2", "10.0.0.3"])
def test_behind_our_proxies_the_nearest_untrusted_address_is_the_client() -> None:
    # A client may send its own X-Forwarded-For; only what our proxies appended counts.
    assert client_ip(request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.3")) == "198.51.100.7"
    assert client_ip(request("10.0.0.2")) == "10.0.0.2"


def test_ipv6_addresses_are_grouped_by_their_64_prefix() -> None:
    assert (
        rate_limit_key("2001:db8:1:2:aaaa::1")
        == rate_limit_key("2001:db8:1:2:bbbb::9")
        == "2001:db8:1:2::/64"
    )
    assert rate_limit_key("192.0.2.1") == "192.0.2.1"


@pytest.mark.django_db
def test_a_task_that_cannot_be_enqueued_after_commit_is_logged_not_raised(
    django_capture_on_commit_callbacks, caplog
) -> None:  # type: ignore[no-untyped-def]
    """Redis down: the caller's transaction has committed and the caller must succeed."""
    from common.transactions import enqueue_on_commit

    class Unreachable:
        name = "tests.unreachable_task"

        def delay(self, *args: object) -> None:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_on_commit(Unreachable(), 42)

    assert [c.__qualname__ for c in callbacks] == ["enqueue:tests.unreachable_task"]
    assert "Could not enqueue tests.unreachable_task(42,)" in caplog.text
