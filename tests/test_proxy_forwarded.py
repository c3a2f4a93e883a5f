"""Forwarded / X-Forwarded-* resolution for trusted peers (pure, plain values)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corral.proxy import (
    FORWARDING_HEADERS,
    MAX_HOPS,
    ForwardedOptions,
    ProxyView,
    TrustedPeers,
    has_forwarding,
    parse_forwarded_header,
    resolve_forwarded,
    strip_forwarding,
)

TRUSTED = TrustedPeers.parse(["10.0.0.0/8", "::1"])
PEER = ("10.0.0.1", 5000)
SERVER = ("0.0.0.0", 8000)
PLAIN = ProxyView(PEER, "http", None, 8000, "")


def view(
    *headers: tuple[str, str], peer: tuple[str, int] | None = PEER, **options: bool
) -> ProxyView:
    """Resolve ``headers`` (str pairs, encoded as latin-1) from ``peer`` over plain HTTP."""
    raw = [(name.encode(), value.encode("latin-1")) for name, value in headers]
    return resolve_forwarded(raw, peer, "http", SERVER, TRUSTED, ForwardedOptions(**options))


def xff(value: str) -> tuple[str, int] | None:
    """The client resolved from one X-Forwarded-For value."""
    return view(("x-forwarded-for", value)).client


# -- trust of the peer ------------------------------------------------------------------


def test_untrusted_peer_headers_are_ignored() -> None:
    peer = ("203.0.113.5", 1234)
    got = view(
        ("x-forwarded-for", "1.1.1.1"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "evil.example"),
        ("forwarded", "for=1.1.1.1;proto=https"),
        peer=peer,
    )
    assert got == ProxyView(peer, "http", None, 8000, "")


def test_no_forwarding_headers_gives_the_connection_facts() -> None:
    assert view(("host", "a"), ("user-agent", "x")) == PLAIN


def test_ipv4_mapped_peer_is_trusted() -> None:
    assert view(("x-forwarded-for", "1.1.1.1"), peer=("::ffff:10.0.0.1", 1)).client == (
        "1.1.1.1",
        0,
    )


def test_unix_socket_peer_needs_unix_in_the_list() -> None:
    raw = [(b"x-forwarded-for", b"1.1.1.1")]
    with_unix = TrustedPeers.parse(["unix"])
    assert resolve_forwarded(raw, None, "http", None, with_unix).client == ("1.1.1.1", 0)
    assert resolve_forwarded(raw, None, "http", None, TRUSTED) == ProxyView(
        None, "http", None, None, ""
    )


# -- X-Forwarded-For --------------------------------------------------------------------


def test_spoofed_entry_left_of_the_real_client_is_ignored() -> None:
    # client-supplied spoof, real client, trusted proxy
    assert xff("6.6.6.6, 2.2.2.2, 10.0.0.2") == ("2.2.2.2", 0)


def test_all_trusted_gives_the_leftmost() -> None:
    assert xff("10.0.0.3, 10.0.0.2") == ("10.0.0.3", 0)


def test_field_lines_are_joined_in_order() -> None:
    got = view(("x-forwarded-for", "6.6.6.6, 2.2.2.2"), ("x-forwarded-for", "10.0.0.2"))
    assert got.client == ("2.2.2.2", 0)
    got = view(("x-forwarded-for", "2.2.2.2"), ("x-forwarded-for", "3.3.3.3"))
    assert got.client == ("3.3.3.3", 0)


@pytest.mark.parametrize(
    ("value", "client"),
    [
        (" 1.2.3.4 ", ("1.2.3.4", 0)),
        ("1.2.3.4:8080", ("1.2.3.4", 8080)),
        ("[2001:db8::1]:4711", ("2001:db8::1", 4711)),
        ("[2001:DB8::1]", ("2001:db8::1", 0)),
        ("2001:db8::1", ("2001:db8::1", 0)),
        ("\t1.2.3.4,, ,", ("1.2.3.4", 0)),  # empty list elements are skipped
    ],
)
def test_entry_forms(value: str, client: tuple[str, int]) -> None:
    assert xff(value) == client


@pytest.mark.parametrize(
    ("value", "client"),
    [
        ("1.1.1.1, unknown, 10.0.0.2", ("10.0.0.2", 0)),  # walk stops at garbage
        ("1.1.1.1, unknown", PEER),
        ("garbage", PEER),
        ("[1.2.3.4]", PEER),
        ("1.2.3.4:", PEER),
        ("1.2.3.4:65536", PEER),
        ("1.2.3.4:_obf", PEER),
        ("fe80::1%eth0", PEER),
        ("1.2.3.4 5.6.7.8", PEER),
        ("\xe9.1.1.1", PEER),
        ("", PEER),
    ],
)
def test_invalid_entries_stop_the_walk(value: str, client: tuple[str, int]) -> None:
    assert xff(value) == client


def test_only_the_last_64_entries_are_considered() -> None:
    chain = ["1.1.1.1"] + [f"10.0.{i // 250}.{i % 250 + 1}" for i in range(100)]
    assert xff(", ".join(chain)) == (chain[-MAX_HOPS], 0)
    assert xff(", ".join(chain[-MAX_HOPS - 1 :])) == (chain[-MAX_HOPS], 0)
    assert xff(", ".join(["1.1.1.1", *chain[-MAX_HOPS + 1 :]])) == ("1.1.1.1", 0)


def test_x_real_ip_is_a_fallback() -> None:
    assert view(("x-real-ip", " 2.2.2.2 ")).client == ("2.2.2.2", 0)
    assert view(("x-real-ip", "nope")).client == PEER
    got = view(("x-real-ip", "2.2.2.2"), ("x-forwarded-for", "3.3.3.3"))
    assert got.client == ("3.3.3.3", 0)


# -- scheme, host, port, prefix ---------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "scheme"),
    [
        ([("x-forwarded-proto", "https")], "https"),
        ([("x-forwarded-proto", "HTTPS")], "https"),
        ([("x-forwarded-proto", "wss")], "https"),
        ([("x-forwarded-proto", "ws")], "http"),
        ([("x-forwarded-proto", "http, https")], "https"),  # rightmost
        ([("x-forwarded-proto", "https, http")], "http"),
        ([("x-forwarded-proto", "https"), ("x-forwarded-proto", "http")], "http"),
        ([("x-forwarded-proto", "ftp")], "http"),
        ([("x-forwarded-proto", "https,")], "http"),
        ([("x-forwarded-scheme", "https")], "https"),
        ([("x-forwarded-ssl", "on")], "https"),
        ([("x-forwarded-ssl", "yes")], "http"),
        ([("x-forwarded-proto", "bogus"), ("x-forwarded-ssl", "on")], "https"),
        ([("x-forwarded-proto", "http"), ("x-forwarded-ssl", "on")], "http"),
    ],
)
def test_scheme(headers: list[tuple[str, str]], scheme: str) -> None:
    assert view(*headers).scheme == scheme


def test_x_forwarded_ssl_off_downgrades_a_tls_connection() -> None:
    raw = [(b"x-forwarded-ssl", b"off")]
    assert resolve_forwarded(raw, PEER, "https", SERVER, TRUSTED).scheme == "http"


@pytest.mark.parametrize(
    ("value", "host"),
    [
        ("example.com", b"example.com"),
        ("Example.COM:8443", b"Example.COM:8443"),
        ("[2001:db8::1]:80", b"[2001:db8::1]:80"),
        ("192.0.2.1", b"192.0.2.1"),
        ("my_service:8000", b"my_service:8000"),
        ("a.example, b.example", b"b.example"),
        ("exa mple.com", None),
        ("evil.com/path", None),
        ("user@evil.com", None),
        ("evil.com:", None),
        ("evil.com:123456", None),
        ("\xe9vil.com", None),
        ("a\r\nSet-Cookie: x", None),
        ("", None),
        ("a" * 262, None),
    ],
)
def test_x_forwarded_host(value: str, host: bytes | None) -> None:
    assert view(("x-forwarded-host", value)).host == host


@pytest.mark.parametrize(
    ("value", "port"),
    [("443", 443), ("80, 8443", 8443), ("1", 1), ("65535", 65535)]
    + [(bad, 8000) for bad in ("0", "65536", "+80", "8o", "", "4 43", "\u0664\u0664\u0663")],
)
def test_x_forwarded_port(value: str, port: int) -> None:
    raw = [(b"x-forwarded-port", value.encode())]
    assert resolve_forwarded(raw, PEER, "http", SERVER, TRUSTED).server_port == port


def test_server_port_is_none_without_a_server() -> None:
    raw = [(b"x-forwarded-port", b"bad")]
    assert resolve_forwarded(raw, PEER, "http", None, TRUSTED).server_port is None
    raw = [(b"x-forwarded-port", b"443")]
    assert resolve_forwarded(raw, PEER, "http", None, TRUSTED).server_port == 443


def test_prefix_is_off_by_default() -> None:
    assert view(("x-forwarded-prefix", "/app")).root_path == ""


@pytest.mark.parametrize(
    ("value", "root_path"),
    [
        ("/app", "/app"),
        ("/app/", "/app"),
        ("/a/b-c_d.e~", "/a/b-c_d.e~"),
        ("/", ""),
        ("/one, /two", "/two"),
        ("app", ""),
        ("//evil.example", ""),
        ("/a/../b", ""),
        ("/a/..", ""),
        ("/a%2e%2e", ""),
        ("/a\\b", ""),
        ("/a\x00", ""),
        ("/a\x7f", ""),
        ("/caf\xe9", ""),
        ("/a b", ""),
    ],
)
def test_x_forwarded_prefix(value: str, root_path: str) -> None:
    assert view(("x-forwarded-prefix", value), use_prefix=True).root_path == root_path


# -- RFC 7239 Forwarded -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "elements"),
    [
        ('for="_gazonk"', [{"for": "_gazonk"}]),
        ('For="[2001:db8:cafe::17]:4711"', [{"for": "[2001:db8:cafe::17]:4711"}]),
        (
            "for=192.0.2.60;proto=http;by=203.0.113.43",
            [{"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"}],
        ),
        ("for=192.0.2.43, for=198.51.100.17", [{"for": "192.0.2.43"}, {"for": "198.51.100.17"}]),
        ('for="a\\"b\\\\c"', [{"for": 'a"b\\c'}]),
        (" for=a ; proto=b ,, ;, host=c ", [{"for": "a", "proto": "b"}, {"host": "c"}]),
    ],
)
def test_parse_forwarded_header(value: str, elements: list[dict[str, str]]) -> None:
    assert parse_forwarded_header(value) == elements


@pytest.mark.parametrize(
    "value",
    [
        "",
        " , ;",
        "for=1.2.3.4;for=5.6.7.8",  # a parameter twice in one element
        "for=[::1]",  # brackets must be quoted
        "for=1.2.3.4:80",
        'for="unterminated',
        'for="a"b',
        "for",
        "=x",
        "for=a b",
        "for = a",
        "for=\x00",
    ],
)
def test_malformed_forwarded_header(value: str) -> None:
    assert parse_forwarded_header(value) is None


def test_forwarded_gives_client_scheme_and_host() -> None:
    got = view(("forwarded", "for=1.1.1.1;proto=https;host=example.com"))
    assert got == ProxyView(("1.1.1.1", 0), "https", b"example.com", 8000, "")


def test_forwarded_walk_takes_proto_and_host_of_the_chosen_hop() -> None:
    got = view(
        (
            "forwarded",
            "for=6.6.6.6;proto=http;host=spoof, "
            "for=2.2.2.2;proto=https;host=shop.example, "
            "for=10.0.0.2;proto=http;host=internal",
        )
    )
    assert (got.client, got.scheme, got.host) == (("2.2.2.2", 0), "https", b"shop.example")


def test_forwarded_all_trusted_gives_the_leftmost_element() -> None:
    got = view(("forwarded", "for=10.0.0.3;proto=https, for=10.0.0.2;proto=http"))
    assert (got.client, got.scheme) == (("10.0.0.3", 0), "https")


def test_forwarded_ipv6_with_port() -> None:
    assert view(("forwarded", 'for="[2001:db8::1]:4711"')).client == ("2001:db8::1", 4711)
    assert view(("forwarded", 'for="1.2.3.4:_port"')).client == ("1.2.3.4", 0)


@pytest.mark.parametrize("node", ["_hidden", "unknown", '"[1.2.3.4]"', '"2001:db8::1"', '""'])
def test_forwarded_obfuscated_node_stops_the_walk(node: str) -> None:
    got = view(("forwarded", f"for={node};proto=https, for=10.0.0.2;proto=http"))
    # The hidden client's hop was still written by a trusted proxy: its proto holds.
    assert (got.client, got.scheme) == (("10.0.0.2", 0), "https")
    got = view(("forwarded", f"for={node};proto=https"))
    assert (got.client, got.scheme) == (PEER, "https")


def test_forwarded_element_without_for_stops_the_walk() -> None:
    got = view(("forwarded", "for=1.1.1.1, proto=https;host=a.example"))
    assert (got.client, got.scheme, got.host) == (PEER, "https", b"a.example")


def test_forwarded_field_lines_are_joined() -> None:
    got = view(("forwarded", "for=2.2.2.2;proto=https"), ("forwarded", "for=10.0.0.2"))
    assert (got.client, got.scheme) == (("2.2.2.2", 0), "https")


def test_forwarded_bad_proto_and_host_are_ignored() -> None:
    got = view(("forwarded", 'for=1.1.1.1;proto=gopher;host="a b"'))
    assert (got.scheme, got.host) == ("http", None)


def test_forwarded_wins_over_x_forwarded() -> None:
    got = view(
        ("x-forwarded-for", "3.3.3.3"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "x.example"),
        ("x-forwarded-port", "9999"),
        ("forwarded", "for=1.1.1.1"),
    )
    assert got == ProxyView(("1.1.1.1", 0), "http", None, 8000, "")


def test_prefix_still_applies_with_forwarded() -> None:
    got = view(("forwarded", "for=1.1.1.1"), ("x-forwarded-prefix", "/app"), use_prefix=True)
    assert (got.client, got.root_path) == (("1.1.1.1", 0), "/app")


def test_malformed_forwarded_falls_back_to_x_forwarded() -> None:
    got = view(("forwarded", "for=[::1]"), ("x-forwarded-for", "3.3.3.3"))
    assert got.client == ("3.3.3.3", 0)
    assert view(("forwarded", "for=[::1]")) == PLAIN


def test_forwarded_can_be_disabled() -> None:
    headers = (("forwarded", "for=1.1.1.1"), ("x-forwarded-for", "3.3.3.3"))
    assert view(*headers, use_forwarded=False).client == ("3.3.3.3", 0)
    assert view(("forwarded", "for=1.1.1.1"), use_forwarded=False) == PLAIN


def test_forwarded_only_the_last_64_elements_are_considered() -> None:
    hops = [f"for=10.0.{i // 250}.{i % 250 + 1}" for i in range(100)]
    got = view(("forwarded", ", ".join(["for=1.1.1.1;proto=https", *hops])))
    assert got.client == (hops[-MAX_HOPS].removeprefix("for="), 0)
    assert got.scheme == "http"


# -- stripping --------------------------------------------------------------------------


def test_forwarding_header_names() -> None:
    assert {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-proto",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-forwarded-ssl",
        b"x-forwarded-scheme",
        b"x-real-ip",
    } == FORWARDING_HEADERS


def test_has_and_strip_forwarding() -> None:
    headers = [
        (b"host", b"a"),
        (b"x-forwarded-for", b"1.1.1.1"),
        (b"accept", b"*/*"),
        (b"forwarded", b"for=x"),
        (b"x-real-ip", b"2.2.2.2"),
    ]
    assert has_forwarding(headers)
    stripped = strip_forwarding(headers)
    assert stripped == [(b"host", b"a"), (b"accept", b"*/*")]
    assert not has_forwarding(stripped)
    assert not has_forwarding([])


# -- properties -------------------------------------------------------------------------

NAMES = st.sampled_from([*sorted(FORWARDING_HEADERS), b"host", b"x-forwarded-fo"])
VALUE_PARTS = st.sampled_from(
    [
        *("1.1.1.1", "10.0.0.2", "[::1]:80", "::1", ",", ";", "for=", "proto=", "host="),
        *('"', "_x", "unknown", " ", "https", "/p", ":", "[", "]", "\\", "\xff", "\x00"),
        *("a.example", "="),
    ]
)
VALUES = st.one_of(
    st.binary(max_size=80),
    st.lists(VALUE_PARTS, max_size=30).map(lambda p: "".join(p).encode("latin-1")),
)
PEERS = st.sampled_from([None, PEER, ("::1", 1), ("::ffff:10.9.9.9", 2), ("203.0.113.1", 3)])
TRUST_LISTS = st.sampled_from([TRUSTED, TrustedPeers.parse(["*"]), TrustedPeers.parse(["unix"])])


@given(
    st.lists(st.tuples(NAMES, VALUES), max_size=8),
    PEERS,
    st.sampled_from(["http", "https"]),
    TRUST_LISTS,
    st.booleans(),
    st.booleans(),
)
def test_resolve_never_raises_and_gives_sane_values(
    headers: list[tuple[bytes, bytes]],
    peer: tuple[str, int] | None,
    scheme: str,
    trusted: TrustedPeers,
    use_forwarded: bool,
    use_prefix: bool,
) -> None:
    options = ForwardedOptions(use_forwarded=use_forwarded, use_prefix=use_prefix)
    got = resolve_forwarded(headers, peer, scheme, SERVER, trusted, options)
    assert got.scheme in ("http", "https")
    if got.client is not None and got.client != peer:
        ipaddress.ip_address(got.client[0])
        assert 0 <= got.client[1] <= 65535
    assert got.host is None or got.host.isascii()
    assert got.root_path == "" or (got.root_path.startswith("/") and ".." not in got.root_path)
    assert got.server_port is not None and 1 <= got.server_port <= 65535


@given(st.text(max_size=120))
def test_parse_forwarded_header_never_raises(value: str) -> None:
    parse_forwarded_header(value)


PUBLIC_IPS = st.ip_addresses(v=4).filter(lambda ip: ip not in ipaddress.ip_network("10.0.0.0/8"))
PRINTABLE = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=10)
SPOOFS = st.lists(st.one_of(st.ip_addresses().map(str), PRINTABLE), max_size=5)


@given(SPOOFS, PUBLIC_IPS, st.lists(st.integers(0, 255), min_size=0, max_size=4))
def test_a_client_cannot_spoof_past_its_trusted_proxy(
    spoof: list[str], real: ipaddress.IPv4Address, proxies: list[int]
) -> None:
    chain = [*spoof, str(real), *(f"10.1.1.{n}" for n in proxies)]
    assert xff(", ".join(chain)) == (str(real), 0)
    elements = [f'for="{item}"' for item in spoof if '"' not in item and "\\" not in item]
    elements += [f"for={real}", *(f"for=10.1.1.{n}" for n in proxies)]
    assert view(("forwarded", ", ".join(elements))).client == (str(real), 0)


def test_huge_lists_are_handled() -> None:
    many = ", ".join(["10.0.0.2"] * 50_000)
    assert xff("1.1.1.1, " + many) == ("10.0.0.2", 0)  # only the last 64 count
    assert xff(many + ", 1.1.1.1") == ("1.1.1.1", 0)
    elements = ", ".join(["for=10.0.0.2"] * 50_000)
    assert view(("forwarded", "for=1.1.1.1, " + elements)).client == ("10.0.0.2", 0)
