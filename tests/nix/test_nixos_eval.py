"""Every rendered configuration is a system the real NixOS module system accepts.

Each configuration rendered for the demo and for a generated state (all three
apps on both runtime kinds, a non-root deploy user on another port, hostile
operator strings) is evaluated under nixos/lib/eval-config.nix of the reference
module tree with stand-in packages: no evaluation error, zero failed
assertions, the expected warnings, the key option values equal to what the
state says, and config.system.build.toplevel forced. Planted mistakes (a wrong
option name, a wrong type, a failed assertion, no boot modules) are caught.
"""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path
from typing import Any

import pytest

from fedi_tui.core.workspace import Workspace
from tests.nix.nixos_eval import EvaluationFailed, NixosTree, evaluate
from tests.nix.rendered_states import DEPLOY_KEY, HOSTILE, Rendered

pytestmark = pytest.mark.nixos


def test_every_machine_of_both_states_is_evaluated(rendered: Rendered) -> None:
    assert sorted(rendered.results) == [
        "demo/bare-1",
        "demo/coop-mastodon",
        "demo/coop-peertube",
        "demo/photoclub-pixelfed",
        "gen/host",
        "gen/vmop",
        "held/host",
        "held/vmop",
    ]


@pytest.mark.parametrize(
    "machine",
    [
        "demo/bare-1",
        "demo/coop-mastodon",
        "demo/coop-peertube",
        "demo/photoclub-pixelfed",
        "gen/host",
        "gen/vmop",
        "held/host",
        "held/vmop",
    ],
)
def test_machine_evaluates_to_what_the_state_says(rendered: Rendered, machine: str) -> None:
    result = rendered.results[machine]
    assert result["failedAssertions"] == []
    assert result["warnings"] == []  # the modules and the base profiles warn about nothing
    assert result["toplevel"].startswith("/nix/store/")
    assert "-nixos-system-" in result["toplevel"]
    _check_values(rendered.workspaces[machine], machine.split("/")[1], result["values"])


def _check_values(ws: Workspace, name: str, values: dict[str, Any]) -> None:
    spec = ws.spec
    machine = next(m for m in ws.config.machines if m.name == name)
    runtime = spec.runtimes[machine.runtime]
    storage = spec.storage[machine.storage]
    proxmox = runtime.kind == "proxmox"
    port = 22 if proxmox else runtime.port  # type: ignore[union-attr]
    user = runtime.ssh.user

    # the system: release, boot, host name
    assert values["stateVersion"] == runtime.system.state_version
    if proxmox:  # the template's profile: root by label, GRUB on the VM disk, cloud-init
        assert values["rootFileSystem"] == "/dev/disk/by-label/nixos"
        assert values["grubDevices"] == ["/dev/vda"]
        assert values["cloudInit"] is True and values["qemuGuest"] is True
        assert values["hostName"] == ""  # cloud-init names the VM after its Proxmox name
    else:  # the host's own hardware configuration (here: tests/nix/hardware-configuration.nix)
        assert values["rootFileSystem"].startswith("/dev/disk/by-uuid/")
        assert values["grubDevices"] == ["/dev/sda"]
        assert values["qemuGuest"] is False and values["cloudInit"] is False
        assert values["hostName"] == name

    # reachable for fedi-tui
    assert values["openssh"]["enable"] is True
    assert values["openssh"]["ports"] == [port]
    assert values["firewall"]["enable"] is True
    assert port in values["firewall"]["allowedTCPPorts"]
    assert values["authorizedKeys"] == {user: [DEPLOY_KEY, *runtime.ssh.authorized_keys]}
    if user == "root":
        assert values["openssh"]["permitRootLogin"] == "prohibit-password"
    else:
        assert values["deployUsers"][user] == {"isNormalUser": True, "extraGroups": ["wheel"]}
        assert {
            "users": [user],
            "commands": [{"command": "ALL", "options": ["NOPASSWD"]}],
        } in values["sudoRules"]

    # the applications: domains, S3, nginx, ACME
    domains = sorted(app.requirements.domain for app in machine.apps)
    assert sorted(values["nginx"]) == domains
    assert all(v == {"forceSSL": True, "enableACME": True} for v in values["nginx"].values())
    assert values["acme"] == {
        "acceptTerms": True,
        "email": spec.provider.contact,
        "certs": domains,
    }
    assert sorted(values["firewall"]["allowedTCPPorts"]) == sorted({port, 80, 443})
    titles = {}
    for app in machine.apps:
        domain, bucket = app.requirements.domain, app.requirements.buckets[0]
        titles[app.module.name] = app.options.site_title or spec.operators[app.operator].name
        if app.module.name == "mastodon":
            assert values["mastodon"]["localDomain"] == domain
            assert values["mastodon"]["settingsScript"] is True  # `SETTINGS` runs it
            s3 = values["mastodon"]["extraConfig"]
            assert (s3["S3_BUCKET"], s3["S3_ENDPOINT"], s3["S3_REGION"]) == (
                bucket,
                storage.s3_endpoint,
                storage.region,
            )
            public = storage.media_url(bucket)
            assert f"{s3['S3_PROTOCOL']}://{s3['S3_ALIAS_HOST']}" == public
        elif app.module.name == "peertube":
            assert values["peertube"]["localDomain"] == domain
            assert values["peertube"]["instanceName"] == titles["peertube"]
            storage_settings = values["peertube"]["objectStorage"]
            assert storage_settings["endpoint"] == storage.s3_endpoint
            assert storage_settings["region"] == storage.region
            assert storage_settings["web_videos"]["bucket_name"] == bucket
            assert storage_settings["web_videos"]["base_url"] == storage.media_url(bucket)
            assert storage_settings["streaming_playlists"]["base_url"] == storage.media_url(bucket)
        else:
            pixelfed = values["pixelfed"]
            assert pixelfed["domain"] == domain
            assert pixelfed["APP_NAME"] == titles["pixelfed"]
            assert (pixelfed["AWS_BUCKET"], pixelfed["AWS_ENDPOINT"]) == (
                bucket,
                storage.s3_endpoint,
            )
            assert pixelfed["AWS_DEFAULT_REGION"] == storage.region
            assert pixelfed["AWS_URL"] == storage.media_url(bucket)
    assert values["fediversity"]["siteTitles"] == titles
    # backup, restore and migration dump the database the NixOS module uses, and stop and
    # start units that exist
    assert values["data"]["databases"] == {
        app.module.name: app.requirements.data.database for app in machine.apps
    }
    for app in machine.apps:
        for unit in (*app.requirements.data.stop_units, *app.requirements.data.start_units):
            assert fnmatch.filter(values["data"]["units"], unit), (app.module.name, unit)
    for app in ("mastodon", "peertube", "pixelfed"):
        if app not in titles:
            assert values[app] == {}


APP_UNIT = ("mastodon*", "peertube*", "pixelfed*", "phpfpm-pixelfed.service")
"""What an app's unit names look like (its services, targets, timers)."""


@pytest.mark.parametrize("machine", ["host", "vmop"])
def test_held_apps_have_units_wanted_by_nothing_and_unheld_ones_are_wanted(
    rendered: Rendered, machine: str
) -> None:
    """holdServices: every unit of every app (those backup, restore and migration stop and
    start included) is wanted by nothing, so neither boot nor switch starts it; without
    it the same units are wanted. sshd and the network are never held."""
    held = rendered.results[f"held/{machine}"]
    normal = rendered.results[f"gen/{machine}"]
    assert held["failedAssertions"] == [] and held["toplevel"].startswith("/nix/store/")
    apps = ("mastodon", "peertube", "pixelfed")
    assert held["values"]["data"]["held"] == dict.fromkeys(apps, True)
    assert normal["values"]["data"]["held"] == dict.fromkeys(apps, False)
    held_wanted, wanted = held["values"]["data"]["wantedBy"], normal["values"]["data"]["wantedBy"]
    app_units = [u for u in wanted if any(fnmatch.fnmatch(u, p) for p in APP_UNIT)]
    started = [u for u in app_units if wanted[u]]
    assert {u: held_wanted[u] for u in app_units if held_wanted[u]} == {}
    ws = rendered.workspaces[f"held/{machine}"]
    placed = next(m for m in ws.config.machines if m.name == machine)
    for app in placed.apps:  # the units the Python side stops and starts are among them
        data = app.requirements.data
        for pattern in (*data.stop_units, *data.start_units):
            matched = fnmatch.filter(started, pattern)
            assert matched, (app.module.name, pattern)
            assert all(held_wanted[u] == [] for u in matched)
    assert {"mastodon.target", "peertube.service", "pixelfed-cron.timer"} <= set(started)
    assert "multi-user.target" in wanted["mastodon.target"]
    assert "timers.target" in wanted["pixelfed-cron.timer"]
    for unit in ("sshd.service", "network-setup.service", "postgresql.service", "nginx.service"):
        assert held_wanted.get(unit) == wanted.get(unit), unit
    assert held_wanted["sshd.service"] == ["multi-user.target"]
    assert held["values"]["openssh"]["enable"] is True


def test_hostile_operator_strings_arrive_exactly(rendered: Rendered) -> None:
    values = rendered.results["gen/vmop"]["values"]
    assert values["fediversity"]["siteTitles"] == dict.fromkeys(
        ("mastodon", "peertube", "pixelfed"), HOSTILE
    )
    assert values["peertube"]["instanceName"] == HOSTILE
    assert values["pixelfed"]["APP_NAME"] == HOSTILE
    assert values["openssh"]["enable"] is True  # no string reached the structure


def test_generated_state_has_all_apps_on_both_runtime_kinds(rendered: Rendered) -> None:
    for machine, kind in (("gen/vmop", "proxmox"), ("gen/host", "nixos")):
        ws = rendered.workspaces[machine]
        placed = next(m for m in ws.config.machines if m.name == machine.split("/")[1])
        assert ws.spec.runtimes[placed.runtime].kind == kind
        assert sorted(a.module.name for a in placed.apps) == ["mastodon", "peertube", "pixelfed"]


# --- planted mistakes ---------------------------------------------------------------------


def _planted(rendered: Rendered, tmp_path: Path, change: tuple[str, str]) -> Path:
    source = rendered.paths["demo/coop-mastodon"].parent
    copy = tmp_path / "planted"
    shutil.copytree(source, copy)
    config = copy / "configuration.nix"
    old, new = change
    text = config.read_text()
    assert old in text
    config.write_text(text.replace(old, new, 1))
    return config


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (
            ("services.qemuGuest.enable = true;", "services.qemuGuest.enabel = true;"),
            "The option `services.qemuGuest.enabel' does not exist",
        ),
        (
            ('system.stateVersion = "25.05";', "system.stateVersion = 25;"),
            "system.stateVersion' is not of type `string'",
        ),
        (
            ("mediaRetentionDays = 14;", 'mediaRetentionDays = "14";'),
            "fediversity.mastodon.mediaRetentionDays' is not of type `signed integer'",
        ),
    ],
    ids=["option-name", "type", "fediversity-type"],
)
def test_evaluation_catches_a_planted_mistake(
    rendered: Rendered,
    nixos_tree: NixosTree,
    tmp_path: Path,
    change: tuple[str, str],
    error: str,
) -> None:
    planted = _planted(rendered, tmp_path, change)
    with pytest.raises(EvaluationFailed) as caught:
        evaluate(nixos_tree, {"planted": planted})
    assert error in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("services.qemuGuest.enable = true;", "boot.loader.systemd-boot.enable = true;"),
            "systemd-boot requires 'ovmf' bios",
        ),
        (
            ("    <nixpkgs/nixos/modules/virtualisation/proxmox-image.nix>\n", ""),
            "The ‘fileSystems’ option does not specify your root file system.",
        ),
    ],
    ids=["assertion", "no-boot-modules"],
)
def test_evaluation_reports_a_failed_assertion(
    rendered: Rendered,
    nixos_tree: NixosTree,
    tmp_path: Path,
    change: tuple[str, str],
    message: str,
) -> None:
    planted = _planted(rendered, tmp_path, change)
    result = evaluate(nixos_tree, {"planted": planted})["planted"]
    assert any(message in m for m in result["failedAssertions"]), result["failedAssertions"]
