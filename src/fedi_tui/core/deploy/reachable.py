"""The lock-out guard: a rendered configuration must let fedi-tui log in again.

The engine switches a machine to exactly the rendered `configuration.nix`; if
that turned sshd off, closed its port or dropped fedi-tui's key, the provider
would be locked out of its own machine. `check_reachable` reads the written
text back (`nixexpr.read_module`) and checks what it actually says, so a
change in rendering that loses one of these is refused before anything is
pushed. (That NixOS gives these options the values written is proved by
evaluating rendered configurations under the real module system in tests/nix.)
"""

from __future__ import annotations

from dataclasses import dataclass

from fedi_tui.core.deploy.nixexpr import read_module
from fedi_tui.core.errors import FediError


@dataclass(frozen=True)
class Login:
    """How fedi-tui logs in to a machine."""

    user: str
    port: int
    key: str
    """The deploy key: one OpenSSH public key line."""


def _at(data: object, *path: str) -> object:
    for part in path:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def lockout_problems(text: str, login: Login) -> list[str]:
    """What in a rendered configuration.nix would keep fedi-tui from logging in again."""
    try:
        config = read_module(text)
    except ValueError as exc:
        return [f"it cannot be read back to check it ({exc})"]
    problems = []
    if _at(config, "services", "openssh", "enable") is not True:
        problems.append("services.openssh.enable is not true")
    ports = _at(config, "services", "openssh", "ports")
    opened = _at(config, "networking", "firewall", "allowedTCPPorts")
    if not isinstance(ports, list) or login.port not in ports:
        problems.append(f"services.openssh.ports does not hold port {login.port}")
    if _at(config, "networking", "firewall", "enable") is False:
        pass  # no firewall: nothing to open
    elif not isinstance(opened, list) or login.port not in opened:
        problems.append(f"networking.firewall.allowedTCPPorts does not open port {login.port}")
    user = _at(config, "users", "users", login.user)
    keys = _at(user, "openssh", "authorizedKeys", "keys")
    if not isinstance(keys, list) or login.key not in keys:
        problems.append(
            f"users.users.{login.user}.openssh.authorizedKeys.keys lacks fedi-tui's deploy key"
        )
    if login.user == "root":
        if _at(config, "services", "openssh", "settings", "PermitRootLogin") in ("no", None):
            problems.append("services.openssh.settings.PermitRootLogin does not allow keys")
    else:
        if _at(user, "isNormalUser") is not True and _at(user, "isSystemUser") is not True:
            problems.append(f"users.users.{login.user} is not declared as an account")
        if _at(config, "security", "sudo", "enable") is not True or not _sudo_all(
            _at(config, "security", "sudo", "extraRules"), login.user
        ):
            problems.append(
                f"{login.user} may not run nixos-rebuild: no passwordless sudo rule for it"
            )
    return problems


def _sudo_all(rules: object, user: str) -> bool:
    for rule in rules if isinstance(rules, list) else []:
        users, commands = _at(rule, "users"), _at(rule, "commands")
        if not isinstance(users, list) or user not in users or not isinstance(commands, list):
            continue
        for command in commands:
            options = _at(command, "options")
            if (
                _at(command, "command") == "ALL"
                and isinstance(options, list)
                and "NOPASSWD" in options
            ):
                return True
    return False


def check_reachable(machine: str, text: str, login: Login) -> None:
    """FediError naming the machine when its configuration would lock fedi-tui out."""
    problems = lockout_problems(text, login)
    if problems:
        raise FediError(
            f"machine {machine}: its rendered configuration.nix would lock fedi-tui out "
            f"(user {login.user}, port {login.port}): " + "; ".join(problems) + ". "
            "This is a fault in fedi-tui's rendering, not in fedi.toml: nothing was "
            "pushed; please report it."
        )
