"""TrustedPeers: parsing --forwarded-allow-ips and answering "is this peer trusted?"."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corral.proxy import TrustedPeers


def test_exact_addresses_v4_and_v6() -> None:
    peers = TrustedPeers.parse(["127.0.0.1", "::1", "2001:db8::7"])
    assert peers.trusts("127.0.0.1")
    assert peers.trusts("::1")
    assert peers.trusts("2001:DB8:0::7")  # any spelling of the same address
    assert not peers.trusts("127.0.0.2")
    assert not peers.trusts("::2")


def test_networks_v4_and_v6() -> None:
    peers = TrustedPeers.parse(["10.0.0.0/8", "fd00::/8"])
    assert peers.trusts("10.255.3.4")
    assert peers.trusts("fd12:3456::1")
    assert not peers.trusts("11.0.0.1")
    assert not peers.trusts("fe80::1")


def test_single_address_networks_are_exact_entries() -> None:
    peers = TrustedPeers.parse(["192.0.2.7/32", "2001:db8::1/128"])
    assert peers.trusts("192.0.2.7")
    assert peers.trusts("2001:db8::1")
    assert not peers.trusts("192.0.2.8")


def test_ipv4_mapped_ipv6_matches_ipv4_entries() -> None:
    peers = TrustedPeers.parse(["127.0.0.1", "10.0.0.0/8"])
    assert peers.trusts("::ffff:127.0.0.1")
    assert peers.trusts("::ffff:10.1.2.3")
    assert not peers.trusts("::ffff:11.1.2.3")


def test_ipv4_mapped_entry_matches_plain_ipv4_peer() -> None:
    peers = TrustedPeers.parse(["::ffff:192.0.2.1"])
    assert peers.trusts("192.0.2.1")
    assert peers.trusts("::ffff:192.0.2.1")


def test_ipv4_peer_does_not_match_ipv6_network() -> None:
    peers = TrustedPeers.parse(["::/0"])
    assert peers.trusts("2001:db8::1")
    assert not peers.trusts("192.0.2.1")


def test_zone_id_is_ignored_for_matching() -> None:
    peers = TrustedPeers.parse(["fe80::/10", "fe80::1"])
    assert peers.trusts("fe80::1%eth0")
    assert peers.trusts("fe80::2%eth0")


def test_unix_peers_need_unix_or_star() -> None:
    assert not TrustedPeers.parse(["127.0.0.1"]).trusts(None)
    assert TrustedPeers.parse(["unix"]).trusts(None)
    assert TrustedPeers.parse(["UNIX"]).trusts(None)
    assert TrustedPeers.parse(["*"]).trusts(None)
    assert not TrustedPeers.parse(["unix"]).trusts("127.0.0.1")


def test_star_trusts_everyone() -> None:
    peers = TrustedPeers.parse(["*"])
    assert peers.everyone
    assert peers.unix
    assert peers.trusts("203.0.113.9")
    assert peers.trusts("2001:db8::1")
    assert not TrustedPeers.parse(["127.0.0.1"]).everyone


def test_empty_list_trusts_nobody() -> None:
    peers = TrustedPeers.parse([])
    assert not peers.trusts("127.0.0.1")
    assert not peers.trusts(None)
    assert not peers.everyone


def test_comma_separated_items_and_blanks() -> None:
    peers = TrustedPeers.parse(["127.0.0.1, 10.0.0.0/8 ,", "  ", "unix"])
    assert peers.trusts("127.0.0.1")
    assert peers.trusts("10.9.9.9")
    assert peers.trusts(None)
    assert repr(peers) == "TrustedPeers.parse(['127.0.0.1', '10.0.0.0/8', 'unix'])"


@pytest.mark.parametrize(
    "host", ["", "localhost", "127.0.0.1:80", "[::1]", "127.0.0.01", "1" * 500, "\u0661.0.0.1"]
)
def test_non_addresses_are_not_trusted(host: str) -> None:
    peers = TrustedPeers.parse(["127.0.0.0/8", "::1", "1.0.0.1"])
    assert not peers.trusts(host)


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("localhost", "'localhost' is not an IP address, a CIDR network, '*' or 'unix'"),
        ("10.0.0.0/33", "'10.0.0.0/33' is not a valid CIDR network"),
        ("10.0.0.1/8", "'10.0.0.1/8' has host bits set; did you mean '10.0.0.0/8'?"),
        ("[::1]", "'[::1]' is not an IP address, a CIDR network, '*' or 'unix'"),
        ("**", "'**' is not an IP address, a CIDR network, '*' or 'unix'"),
    ],
)
def test_bad_items_raise_one_line_value_error(item: str, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        TrustedPeers.parse(["127.0.0.1", item])
    assert str(caught.value) == message


def test_answers_stay_right_once_cache_is_full() -> None:
    peers = TrustedPeers.parse(["10.0.0.0/16"])
    hosts = [f"10.0.{i // 256}.{i % 256}" for i in range(1000)]
    hosts += [f"10.1.{i // 256}.{i % 256}" for i in range(1000)]
    for _ in range(2):
        assert [peers.trusts(host) for host in hosts] == [True] * 1000 + [False] * 1000
    assert len(peers._cache) <= 256  # bounded: a client cannot grow it


@given(st.text(max_size=80))
def test_trusts_never_raises(host: str) -> None:
    peers = TrustedPeers.parse(["10.0.0.0/8", "::1", "unix"])
    assert peers.trusts(host) in (True, False)
