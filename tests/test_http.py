"""The client address behind our own proxies, and how addresses are grouped for rate limits."""

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
