"""The client address every limit counts: X-Forwarded-For is read from trusted proxies only."""

from ipaddress import ip_network

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.core.config import Settings, get_settings
from app.web.client_address import forwarded_client
from tests.factories import (
    make_appointment_type,
    make_openings,
    make_operator,
    make_site,
    make_staff,
)

PROXIES = [ip_network("10.0.0.1"), ip_network("192.168.0.0/16")]


def test_without_trusted_proxies_the_header_is_ignored():
    assert forwarded_client("203.0.113.7", ["198.51.100.1"], []) == "203.0.113.7"


def test_a_direct_client_on_loopback_cannot_choose_its_address():
    assert forwarded_client("127.0.0.1", ["198.51.100.1"], PROXIES) == "127.0.0.1"


def test_a_trusted_proxy_gives_the_address_it_received_the_request_from():
    assert forwarded_client("10.0.0.1", ["198.51.100.1"], PROXIES) == "198.51.100.1"


def test_what_the_client_wrote_left_of_the_proxies_is_never_read():
    header = ["1.1.1.1, 2.2.2.2, 198.51.100.1, 192.168.3.4"]
    assert forwarded_client("10.0.0.1", header, PROXIES) == "198.51.100.1"


def test_headers_repeated_on_several_lines_read_as_one_list():
    header = ["1.1.1.1", "198.51.100.1, 192.168.3.4"]
    assert forwarded_client("10.0.0.1", header, PROXIES) == "198.51.100.1"


def test_a_chain_of_trusted_proxies_only_gives_the_left_most():
    assert forwarded_client("10.0.0.1", ["192.168.1.1, 192.168.2.2"], PROXIES) == "192.168.1.1"


def test_a_trusted_proxy_without_the_header_is_the_client():
    assert forwarded_client("10.0.0.1", [], PROXIES) == "10.0.0.1"


def test_an_unreadable_hop_stops_the_walk_at_the_last_trusted_address():
    assert forwarded_client("10.0.0.1", ["198.51.100.1, n'importe quoi"], PROXIES) == "10.0.0.1"


@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("198.51.100.1:5120", "198.51.100.1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:198.51.100.1", "198.51.100.1"),
    ],
)
def test_ports_and_mapped_addresses_are_read_as_the_address(hop, expected):
    assert forwarded_client("10.0.0.1", [hop], PROXIES) == expected


def test_the_setting_reads_addresses_and_networks_separated_by_commas(monkeypatch):
    monkeypatch.setenv("FILROUGE_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8,::1")
    assert [str(n) for n in Settings().trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]


def test_a_mistyped_proxy_stops_the_app_from_starting(monkeypatch):
    monkeypatch.setenv("FILROUGE_TRUSTED_PROXIES", "10.0.0.300")
    with pytest.raises(ValidationError):
        Settings()


def test_no_proxy_is_trusted_by_default(monkeypatch):
    monkeypatch.delenv("FILROUGE_TRUSTED_PROXIES", raising=False)
    assert Settings(_env_file=None).trusted_proxies == []


# ---- through the app: the public slot pages are limited per client address ---------------


@pytest.fixture
def slots_url(session, monkeypatch):
    monkeypatch.setattr(get_settings(), "public_rate_limit", "2/minute")
    operator = make_operator(session)
    site = make_site(session, operator)
    make_openings(session, make_staff(session, operator), site)
    kind = make_appointment_type(session, operator)
    return f"/rendez-vous/creneaux?operateur=ARA&motif={kind.id}&mode=on_site&lieu={site.id}"


def get_from(client, url: str, forwarded_for: str) -> int:
    return client.get(url, headers={"X-Forwarded-For": forwarded_for}).status_code


def test_an_untrusted_peer_cannot_rotate_its_address_with_the_header(app, slots_url):
    client = TestClient(app, client=("203.0.113.7", 1234))
    statuses = [get_from(client, slots_url, f"198.51.100.{n}") for n in range(3)]
    assert statuses == [200, 200, 429]


def test_a_trusted_proxy_passes_on_each_client_address(app, slots_url, monkeypatch):
    monkeypatch.setattr(get_settings(), "trusted_proxies", PROXIES)
    client = TestClient(app, client=("10.0.0.1", 1234))
    assert [get_from(client, slots_url, f"198.51.100.{n}") for n in range(3)] == [200] * 3
    assert [get_from(client, slots_url, "198.51.100.1") for _ in range(2)] == [200, 429]
