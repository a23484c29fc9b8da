"""What the Garage admin client says when things go wrong: where, what was expected, what to do.

Bad token, TLS mismatch (wrong CA, wrong pin, no trust), answers that are not
Garage's (HTML, empty, redirect, wrong shape, 5xx), nothing listening. No
message and no repr ever holds the admin token or a key's secret.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.adapters.garage import GarageAdmin, GarageError
from fedi_tui.sandbox.tls import make_certs
from tests.fixtures.garage import GarageStandIn
from tests.fixtures.sshd import free_port

pytestmark = pytest.mark.real


def fails(garage: GarageStandIn, **overrides: Any) -> GarageError:
    """The error of a health check with the storage spec changed by *overrides*."""
    with pytest.raises(GarageError) as err:
        asyncio.run(GarageAdmin("garage-a", garage.spec(**overrides)).health())
    text = str(err.value)
    assert garage.token not in text
    return err.value


def test_a_wrong_admin_token_is_named_by_its_source_not_its_value(
    garage: GarageStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "f" * 64
    monkeypatch.setenv(garage.token_env, wrong)
    err = fails(garage)
    text = str(err)
    assert err.reason == "auth" and err.status == 403
    assert text.startswith(f"storage garage-a ({garage.admin_endpoint}): read the cluster health")
    assert f"admin token read from env '{garage.token_env}'" in text
    assert "HTTP 403 (AccessDenied: Forbidden: Invalid authorization token)" in text
    assert "garage admin-token create" in text
    assert wrong not in text


def test_an_unset_token_variable_is_reported_before_anything_is_sent(
    garage: GarageStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(garage.token_env)
    text = str(fails(garage))
    assert f"admin_token: secret env '{garage.token_env}': the variable is not set" in text
    assert garage.calls == []


def test_the_token_is_read_only_when_a_call_needs_it(
    garage: GarageStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(garage.token_env)
    a = GarageAdmin("garage-a", garage.spec())  # no error yet: nothing was asked
    monkeypatch.setenv(garage.token_env, garage.token)
    assert asyncio.run(a.health()).healthy


def test_a_token_with_spaces_is_refused_without_showing_it(
    garage: GarageStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(garage.token_env, "two words")
    text = str(fails(garage))
    assert "contains spaces or control characters (not shown)" in text
    assert "two words" not in text and garage.calls == []


def test_a_certificate_from_another_ca_is_refused_before_anything_is_sent(
    garage: GarageStandIn, tmp_path: Path
) -> None:
    other = make_certs(tmp_path, name="other")
    text = str(fails(garage, ca_file=str(other.ca_file)))
    assert f"TLS: the certificate of 127.0.0.1:{garage.admin_port} could not be verified" in text
    assert f"against the CA in {other.ca_file}" in text
    assert "set ca_file or fingerprint" in text and "Nothing was sent." in text
    assert garage.calls == []


def test_without_ca_file_or_pin_the_system_cas_decide(garage: GarageStandIn) -> None:
    text = str(fails(garage, trust="system"))
    assert "could not be verified against the system's CAs" in text
    assert garage.calls == []


def test_the_pinned_fingerprint_is_accepted(garage: GarageStandIn) -> None:
    health = asyncio.run(GarageAdmin("garage-a", garage.spec(trust="fingerprint")).health())
    assert health.healthy


def test_a_wrong_fingerprint_is_refused_and_both_values_are_shown(garage: GarageStandIn) -> None:
    wrong = ":".join(["AB"] * 32)
    text = str(fails(garage, trust="fingerprint", fingerprint=wrong))
    assert f"has fingerprint {garage.fingerprint}, but fedi.toml pins {wrong}" in text
    assert "Nothing was sent." in text and garage.calls == []


def test_a_missing_ca_file_is_named(garage: GarageStandIn, tmp_path: Path) -> None:
    text = str(fails(garage, ca_file=str(tmp_path / "nope.pem")))
    assert f"storage.garage-a.ca_file '{tmp_path / 'nope.pem'}'" in text
    assert "does not exist" in text and garage.calls == []


def test_a_relative_ca_file_is_read_beside_the_state_file(
    garage: GarageStandIn, tmp_path: Path
) -> None:
    shutil.copyfile(garage.ca_file, tmp_path / "garage-ca.pem")
    a = GarageAdmin("garage-a", garage.spec(ca_file="garage-ca.pem"), tmp_path)
    assert asyncio.run(a.health()).healthy


def test_an_html_page_instead_of_json(garage: GarageStandIn) -> None:
    garage.fail(
        "GetClusterHealth", status=200, body=b"<html>Login</html>", content_type="text/html"
    )
    text = str(fails(garage))
    assert (
        "GetClusterHealth answered 200 with text/html that is not JSON ('<html>Login</html>')"
        in text
    )
    assert "is storage.garage-a.admin_endpoint the admin API (port 3903)" in text


def test_an_empty_answer(garage: GarageStandIn) -> None:
    garage.fail("GetClusterHealth", status=200, body=b"")
    assert "answered 200 with an empty body; expected JSON" in str(fails(garage))


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error(garage: GarageStandIn, status: int) -> None:
    garage.fail("GetClusterHealth", status=status)
    err = fails(garage)
    assert err.reason == "server" and err.status == status
    assert f"Garage failed (HTTP {status} (InternalError: stand-in fault))" in str(err)
    assert "`garage status`" in str(err)


def test_a_5xx_page_from_a_proxy(garage: GarageStandIn) -> None:
    garage.fail("GetClusterHealth", status=502, body=b"Bad Gateway\n", content_type="text/plain")
    assert "Garage failed (HTTP 502 (Bad Gateway))" in str(fails(garage))


def test_an_answer_of_the_wrong_shape_names_the_field(garage: GarageStandIn) -> None:
    garage.fail("GetClusterHealth", status=200, body=b'{"status": "healthy", "knownNodes": 3}')
    text = str(fails(garage))
    assert (
        "GetClusterHealth answered with an unexpected shape (connectedNodes: Field required)"
        in text
    )
    assert "expected GetClusterHealthResponse as in Garage's admin API v2" in text


def test_a_redirect_is_not_followed(garage: GarageStandIn) -> None:
    elsewhere = f"https://127.0.0.2:{garage.admin_port}/v2/GetClusterHealth"
    garage.fail("GetClusterHealth", status=302, body=b"", headers={"Location": elsewhere})
    text = str(fails(garage))
    assert f"answered HTTP 302, a redirect to {elsewhere}" in text
    assert "does not follow redirects (the token would go along)" in text
    assert len(garage.calls) == 1


def test_nothing_listening(garage: GarageStandIn) -> None:
    port = free_port("127.0.0.1")
    text = str(fails(garage, admin_endpoint=f"https://127.0.0.1:{port}"))
    assert f"connection refused on 127.0.0.1:{port}: nothing listens there" in text
    assert "check storage.garage-a.admin_endpoint in fedi.toml" in text


def test_text_from_the_server_is_made_visible_and_never_echoes_the_token(
    garage: GarageStandIn,
) -> None:
    said = f"bad \x1b]0;owned\x07 token Bearer {garage.token} \u202e"
    body = (
        '{"code": "InternalError", "message": "'
        + said.replace("\x1b", "\\u001b").replace("\x07", "\\u0007")
        + '", "region": "garage", "path": "/v2/GetClusterHealth"}'
    ).encode()
    garage.fail("GetClusterHealth", status=500, body=body)
    text = str(fails(garage))
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "bad \\x1b]0;owned\\x07 token Bearer *** \\u202e" in text


def test_no_repr_holds_the_token_or_a_key_secret(garage: GarageStandIn) -> None:
    async def go() -> Any:
        async with GarageAdmin("garage-a", garage.spec()) as a:
            await a.health()
            key = await a.ensure_key("coop-mastodon")
            return a, key

    a, key = asyncio.run(go())
    secret = key.secret.get_secret_value()
    for shown in (repr(a), repr(a._http), repr(key), str(key), repr(garage.spec())):
        assert garage.token not in shown and secret not in shown
