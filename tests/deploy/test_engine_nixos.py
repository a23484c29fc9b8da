"""An apply whose hosts evaluate what they get under the real NixOS module system."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedi_tui.core.deploy.events import LogLine
from tests.deploy.conftest import HostFactory, write_state
from tests.deploy.engine_support import apply
from tests.nix.nixos_eval import NixosTree

pytestmark = [pytest.mark.real, pytest.mark.nixos, pytest.mark.slow]


def test_what_apply_pushes_is_a_configuration_nixos_accepts(
    tmp_path: Path, deploy_hosts: HostFactory, nixos_tree: NixosTree
) -> None:
    host = deploy_hosts(tree=nixos_tree.root)
    path = write_state(tmp_path, [host], apps=("mastodon", "peertube", "pixelfed"))
    result, sink = apply(path)
    assert result.outcome == "succeeded", result.messages
    evaluated = [e.text for e in sink.events if isinstance(e, LogLine) and "evaluat" in e.text]
    assert evaluated, "the host did not evaluate the pushed configuration"
    assert host.generation() == 1


def test_a_configuration_nixos_refuses_is_never_switched(
    tmp_path: Path, deploy_hosts: HostFactory, nixos_tree: NixosTree
) -> None:
    host = deploy_hosts(tree=nixos_tree.root)
    path = write_state(tmp_path, [host])
    # a base module the runtime names that sets an option NixOS does not have
    broken = host.root / "etc/nixos/broken.nix"
    broken.write_text("{ ... }: { services.openssh.noSuchOption = true; }\n")
    path.write_text(
        path.read_text().replace(
            f'base_modules = ["{host.hardware_configuration}"]',
            f'base_modules = ["{host.hardware_configuration}", "{broken}"]',
        )
    )
    result, sink = apply(path)
    assert result.machines == {"host1": "failed"}
    lines = "\n".join(e.text for e in sink.events if isinstance(e, LogLine))
    assert "noSuchOption" in lines
    assert host.generation() == 0
