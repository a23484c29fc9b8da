"""A connection test in words: the panel text, and the question before pinning."""

from __future__ import annotations

from rich.text import Text

from fedi_tui.core.probes import ProbeReport
from fedi_tui.core.text import visible, visible_line
from fedi_tui.tui.screens.modals import ConfirmModal

_COMPARE = {
    "tls": "pvenode cert info` on the node",
    "ssh": "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the machine's console",
}


def _outside(text: str | None) -> str:
    """Text a server sent, safe to show: control characters made visible."""
    return visible_line(text or "")


def describe(report: ProbeReport) -> Text:
    """The panel: reachable or not, trusted or not (and by what), the identity, pinning.

    Plain Text, not markup: what the server sent is shown as it is (escapes made
    visible), never interpreted.
    """
    r, target, trust = report.result, report.target, report.trust
    out = Text()

    def line(*parts: str | tuple[str, str]) -> None:
        if out:
            out.append("\n")
        out.append_text(Text.assemble(*parts))

    if r.error:
        line((f"✗ {_outside(r.target)}", "bold"))
        line(visible(r.error))
        return out
    line(("✓ reachable", "bold"), f" {_outside(r.target)} in {r.latency_ms or 0:.1f} ms")
    if trust is not None:
        if trust.ok:
            line(("✓ trusted", "bold"), f": {trust.detail}")
        elif trust.ok is None:
            line(("! not verified", "bold"), f": {trust.detail}")
        else:
            line(("✗ NOT trusted", "bold"), f" by {trust.anchor}: {trust.detail}")
    if r.tls_fingerprint:
        line(f"TLS certificate {_outside(r.tls_subject)}")
        line(f"SHA-256 {_outside(r.tls_fingerprint)}")
        pinned, kind = target.fingerprint, "tls"
    elif r.ssh_host_key:
        line(f"SSH host key {_outside(r.ssh_fingerprint)}")
        line(_outside(r.ssh_host_key))
        pinned, kind = target.host_key, "ssh"
    else:
        return out
    if pinned is None:
        also = f" (replaces ca_file {target.ca_file})" if target.ca_file else ""
        line("not pinned: press ", ("p", "bold"), f" to pin it{also}")
    elif trust is not None and trust.ok is False:
        line(("p", "bold"), " shows the pinned and the new value before pinning again")
    line(f"Compare it with `{_COMPARE[kind]} before pinning.")
    return out


def pin_question(report: ProbeReport) -> ConfirmModal | str:
    """The question to confirm before pinning, or why there is nothing to pin (a notice)."""
    r, target = report.result, report.target
    if r.tls_fingerprint:
        what, seen, pinned, kind = "TLS certificate", r.tls_fingerprint, target.fingerprint, "tls"
        shown = f"SHA-256 {visible_line(seen)}\n{visible_line(r.tls_subject or '')}"
    elif r.ssh_host_key:
        what, seen, pinned, kind = "SSH host key", r.ssh_host_key, target.host_key, "ssh"
        shown = f"{visible_line(r.ssh_fingerprint or '')}\n{visible_line(seen)}"
    else:
        return "Nothing to pin: a plain http:// endpoint presents no certificate."
    compare = f"Compare it with `{_COMPARE[kind]} first."
    if pinned is not None and " ".join(pinned.split()[:2]) == seen:
        return f"Already pinned: {target.entry} has this {what}."
    if pinned is not None:
        body = (
            f"{target.entry} pins:\n{visible_line(pinned)}\n\n"
            f"The server now presents:\n{shown}\n\n"
            f"A changed {what} can mean someone is intercepting the connection (an attack). "
            f"Pin the new one only if you know it was renewed or the machine reinstalled. "
            f"{compare}"
        )
        return ConfirmModal(
            f"The {what} CHANGED", body, yes="Pin the new one", no="Keep the old one"
        )
    instead = ""
    if target.ca_file is not None:
        instead = (
            f" instead of the CA in {target.ca_file} (the ca_file line stays in the file "
            "as a comment)"
        )
    body = (
        f"Pin into {target.entry}:\n{shown}\n\n"
        f"fedi-tui will then trust exactly this {what}{instead}. {compare}"
    )
    return ConfirmModal(f"Pin this {what}?", body, yes="Pin", no="Cancel")
