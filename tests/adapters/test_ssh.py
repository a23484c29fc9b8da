"""The SSH adapter against a real OpenSSH sshd on 127.0.0.x: commands, files, activation, trust.

sshd runs on this machine, so a "remote" path is also a local path: the tests
check what the adapter did with plain ``os`` calls, not through the adapter.
Most tests log in as the fast test user (/bin/sh); its home directory does not
exist, so sshd prints "Could not chdir to home directory" on stderr first —
:func:`_real` drops that line.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from fedi_tui.adapters import ssh as ssh_module
from fedi_tui.adapters.sftpfiles import MARKER
from fedi_tui.adapters.ssh import SshMachine, Stream
from fedi_tui.core.deploy.deploykey import read_deploy_keys
from fedi_tui.core.deploy.mapping import map_resources
from fedi_tui.core.deploy.recorded import RecordedState
from fedi_tui.core.deploy.render import module_files, render_all
from fedi_tui.core.errors import FediError
from fedi_tui.core.shipped import nix_modules_dir
from fedi_tui.core.state.file import load_state
from tests.fixtures.sshd import SshHost, free_port, known_hosts_pattern
from tests.paths import DEMO, ROOT

pytestmark = pytest.mark.real

FAKE_REBUILD = ROOT / "tests" / "fixtures" / "fake-nixos-rebuild"
NOISE = "Could not chdir to home directory"

Line = tuple[Stream, str]


def _collect(into: list[Line]) -> Callable[[Stream, str], None]:
    return lambda stream, text: into.append((stream, text))


def _real(lines: list[Line]) -> list[Line]:
    return [(s, text) for s, text in lines if not text.startswith(NOISE)]


def _run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


def _log_in_and_out(host: str, port: int, user: str, key: Path, **kw: Any) -> None:
    """Connect and disconnect at once: for the tests of what refuses a login."""

    async def go() -> None:
        async with SshMachine.connect(host, port, user, key, **kw):
            pass

    _run(go())


def _connect(host: SshHost, **kw: Any) -> AbstractAsyncContextManager[SshMachine]:
    kw.setdefault("known_hosts", host.known_hosts)
    kw.setdefault("timeout", 10.0)
    return SshMachine.connect(host.address, host.port, host.user, host.client_key, **kw)


def _fingerprint(public_key_file: Path) -> str:
    out = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key_file)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()[1]  # "256 SHA256:… comment (ED25519)"


def _other_public_key(kind: str = "ssh-ed25519") -> str:
    key = asyncssh.generate_private_key(kind)
    words = key.export_public_key("openssh").decode().split()
    return f"{words[0]} {words[1]}"


def _accepted_logins(host: SshHost) -> int:
    return host.log.read_text().count("Accepted publickey")


def _program(pid: int) -> str | None:
    """argv[0] of *pid* as a base name, None if there is no such process.

    While *pid* is in the middle of an exec, the kernel shows an empty command
    line: that reads as "" (neither the old program nor the new one).
    """
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return None if state in ("Z", "X") else os.path.basename(argv0.decode(errors="replace"))


def _alive(pid: int) -> bool:
    """True while *pid* runs `sleep` (a zombie, or a reused pid running anything else, is gone).

    It looks at argv[0] only: a `sh -c '…; exec sleep 60'` that has not yet
    exec'd has "sleep" in its command line too, and is not the sleep.
    """
    return _program(pid) == "sleep"


def _wait_exec(pid: int, program: str, limit: float = 10.0) -> bool:
    """Wait until *pid* has exec'd *program*; False if it did not within *limit* seconds."""
    deadline = time.monotonic() + limit
    while _program(pid) != program:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def _wait_gone(pid: int, limit: float = 5.0) -> bool:
    deadline = time.monotonic() + limit
    while _alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.fixture
def remote_dir(sshd_fast_host: SshHost) -> Iterator[str]:
    """An empty directory under /tmp owned by the host's login user (mode 0700)."""
    path = Path(tempfile.mkdtemp(prefix="fedi-ssh-"))
    entry = pwd.getpwnam(sshd_fast_host.user)
    os.chown(path, entry.pw_uid, entry.pw_gid)
    yield str(path)
    shutil.rmtree(path, ignore_errors=True)


def _demo_files() -> dict[str, dict[str, str]]:
    spec = load_state(DEMO).spec
    config = map_resources(spec, RecordedState())
    keys = read_deploy_keys(spec, DEMO, (m.runtime for m in config.machines))
    rendered = render_all(spec, config, module_files(nix_modules_dir()), keys)
    return {name: r.files for name, r in rendered.items()}


async def _install_fake_rebuild(m: SshMachine, remote_dir: str) -> tuple[str, ...]:
    """Put the fake nixos-rebuild first on PATH for activate(); returns the command."""
    bin_dir = f"{remote_dir}/bin"
    await m.put_file(f"{bin_dir}/nixos-rebuild", FAKE_REBUILD.read_bytes(), mode=0o700)
    path = f"PATH={bin_dir}:/usr/bin:/bin"
    return ("env", path, "nixos-rebuild", "switch", "-I", "nixos-config={config}")


# --- run -----------------------------------------------------------------------


def test_run_streams_stdout_and_stderr_lines_in_order(sshd_fast_host: SshHost) -> None:
    script = (
        "echo one; sleep 0.05; echo two >&2; sleep 0.05; printf 'three\\nfour\\n'; sleep 0.05; "
        "echo five >&2; sleep 0.05; printf 'six  with  spaces '"  # last line: no newline
    )
    lines: list[Line] = []

    async def go() -> int:
        async with _connect(sshd_fast_host) as m:
            return await m.run(["sh", "-c", script], on_line=lambda s, t: lines.append((s, t)))

    assert _run(go()) == 0
    assert _real(lines) == [
        ("stdout", "one"),
        ("stderr", "two"),
        ("stdout", "three"),
        ("stdout", "four"),
        ("stderr", "five"),
        ("stdout", "six  with  spaces "),
    ]


def test_the_connection_uses_aes_gcm_when_the_server_offers_it(sshd_fast_host: SshHost) -> None:
    """fedi-tui's CPU per packet: AES-GCM before asyncssh's default ChaCha20-Poly1305."""

    async def go() -> tuple[str, str]:
        async with _connect(sshd_fast_host) as m:
            info = m.connection.get_extra_info
            return info("send_cipher"), info("recv_cipher")

    assert _run(go()) == ("aes128-gcm@openssh.com", "aes128-gcm@openssh.com")


def test_run_delivers_each_line_as_it_comes(sshd_fast_host: SshHost) -> None:
    arrived: list[tuple[float, str]] = []

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.run(
                ["sh", "-c", "echo first; sleep 0.6; echo second"],
                on_line=lambda s, t: arrived.append((time.monotonic(), t)),
            )

    _run(go())
    times = {text: when for when, text in arrived}
    assert times["second"] - times["first"] >= 0.5  # not buffered until the command ended


def test_run_quotes_every_argument(sshd_fast_host: SshHost) -> None:
    args = ["a b", "$HOME", "it's", ";", "`id`", "*", 'say "hi"', "back\\slash"]
    lines: list[Line] = []

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.run(["printf", "%s\\n", *args], on_line=lambda s, t: lines.append((s, t)))

    _run(go())
    assert [t for s, t in _real(lines)] == args


def test_run_returns_exit_status_without_check(sshd_fast_host: SshHost) -> None:
    async def go() -> list[int]:
        async with _connect(sshd_fast_host) as m:
            return [
                await m.run(["true"]),
                await m.run(["sh", "-c", "exit 7"], check=False),
                await m.run(["sh", "-c", "kill -TERM $$"], check=False),
            ]

    assert _run(go()) == [0, 7, -15]


def test_run_check_error_names_command_status_and_stderr_tail(sshd_fast_host: SshHost) -> None:
    script = "for i in $(seq 1 30); do echo err$i >&2; done; echo out; exit 3"

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.run(["sh", "-c", script])

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    assert "`sh -c 'for i in" in text
    assert f"{sshd_fast_host.user}@{sshd_fast_host.address}:{sshd_fast_host.port}" in text
    assert "exited with status 3" in text
    assert "  err30" in text and "  err11" in text
    assert "err10\n" not in text and "out" not in text.split("stderr:")[1]


def test_run_refuses_a_string_for_argv(sshd_fast_host: SshHost) -> None:
    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.run("echo hi")

    with pytest.raises(ValueError, match="not a string"):
        _run(go())


_RUNNING = (
    "state=$(sed -n 's/^State:[[:space:]]*\\(.\\).*/\\1/p' /proc/$(cat {pidfile})/status "
    '2>/dev/null); [ -n "$state" ] && [ "$state" != Z ]'
)
"""Exit 0 exactly when the process in the pid file runs (not gone, not a zombie)."""


@pytest.fixture
def own_pids() -> Iterator[list[int]]:
    """Pids of `sleep` processes a test started; any still running at the end are killed."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _start_and_cancel(
    host: SshHost, script: str, pidfile: Path, own_pids: list[int]
) -> tuple[int, list[str], int, BaseException | None]:
    """Run *script* (which prints its pid, then execs `sleep`), cancel it once it sleeps.

    Returns the pid, the signals run() sent, whether the process still runs on
    the machine (0: it does) and what the cancelled run() raised.
    """

    async def go() -> tuple[int, list[str], int, BaseException | None]:
        pids: list[int] = []
        started = asyncio.Event()

        def on_line(stream: Stream, text: str) -> None:
            if stream == "stdout" and text.isdigit():
                pids.append(int(text))
                own_pids.append(int(text))
                started.set()

        async with _connect(host) as m:
            task = asyncio.create_task(m.run(["sh", "-c", script], on_line=on_line))
            await asyncio.wait_for(started.wait(), 10)
            # the pid is printed just before `exec sleep`: cancel once the exec is done,
            # judged by one observation (see _program for why not by "sleep" in cmdline)
            assert await asyncio.to_thread(_wait_exec, pids[0], "sleep")
            task.cancel()
            raised: BaseException | None = None
            try:
                await task
            except BaseException as exc:
                raised = exc
            # the connection is still usable, and on the machine the process is gone
            remote = await m.run(["sh", "-c", _RUNNING.format(pidfile=pidfile)], check=False)
        return pids[0], sent, remote, raised

    sent: list[str] = []
    original = asyncssh.SSHClientProcess.send_signal

    def record(self: asyncssh.SSHClientProcess[str], signal: str | int) -> None:
        sent.append(str(signal))
        original(self, signal)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(asyncssh.SSHClientProcess, "send_signal", record)
        result: tuple[int, list[str], int, BaseException | None] = _run(go())
    return result


def test_a_shell_that_has_not_yet_execd_sleep_is_not_the_sleep() -> None:
    """The cancel tests wait for `exec sleep` before cancelling; a shell whose script
    mentions sleep must not pass for it (it did: the tests then raced the exec)."""
    shell = subprocess.Popen(
        ["sh", "-c", "echo $$; read line; exec sleep 60"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert shell.stdout is not None and shell.stdin is not None
        pid = int(shell.stdout.readline())
        assert _program(pid) == "sh" and not _alive(pid)  # blocked in `read`, still sh
        shell.stdin.write("go\n")
        shell.stdin.flush()
        assert _wait_exec(pid, "sleep") and _alive(pid)
    finally:
        shell.kill()
        shell.wait()
    assert not _alive(pid)


def test_cancel_stops_the_remote_command(
    sshd_fast_host: SshHost, remote_dir: str, own_pids: list[int]
) -> None:
    pidfile = Path(remote_dir) / "pid"
    script = f"echo $$ > {pidfile}; echo $$; exec sleep 60"
    pid, sent, remote, raised = _start_and_cancel(sshd_fast_host, script, pidfile, own_pids)
    assert isinstance(raised, asyncio.CancelledError)
    assert sent == ["TERM"]  # SIGTERM ended it: no SIGKILL after the grace period
    assert remote != 0  # `kill -0 <pid>` on the machine: no such process
    assert _wait_gone(pid)


def test_cancel_kills_a_command_that_ignores_sigterm(
    sshd_fast_host: SshHost, remote_dir: str, monkeypatch: pytest.MonkeyPatch, own_pids: list[int]
) -> None:
    monkeypatch.setattr(ssh_module, "STOP_GRACE", 0.3)
    pidfile = Path(remote_dir) / "pid"
    script = f"trap '' TERM; echo $$ > {pidfile}; echo $$; exec sleep 60"
    pid, sent, remote, raised = _start_and_cancel(sshd_fast_host, script, pidfile, own_pids)
    assert isinstance(raised, asyncio.CancelledError)
    assert sent == ["TERM", "KILL"]  # SIGTERM was ignored for the grace period, then SIGKILL
    assert remote != 0
    assert _wait_gone(pid)


def test_an_error_in_on_line_stops_the_command(
    sshd_fast_host: SshHost, remote_dir: str, own_pids: list[int]
) -> None:
    pidfile = Path(remote_dir) / "pid"

    def on_line(stream: Stream, text: str) -> None:
        if text.isdigit():
            own_pids.append(int(text))
            # e.g. the terminal went away: the caller's error, not a lost SSH connection
            raise BrokenPipeError(f"consumer failed at pid {text}")

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.run(
                ["sh", "-c", f"echo $$ > {pidfile}; echo $$; exec sleep 60"], on_line=on_line
            )

    begin = time.monotonic()
    with pytest.raises(BrokenPipeError, match="consumer failed") as caught:
        _run(go())
    assert time.monotonic() - begin < 5.0
    pid = int(str(caught.value).rsplit(" ", 1)[1])
    assert _wait_gone(pid)


def test_a_lost_connection_ends_run_with_an_error(
    sshd_fast_host: SshHost, own_pids: list[int]
) -> None:
    """The machine's sshd dies mid-command: run() raises FediError instead of hanging."""
    seen: list[int] = []

    def on_line(stream: Stream, text: str) -> None:
        if stream == "stdout" and text.isdigit():
            seen.append(int(text))

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            task = asyncio.create_task(
                m.run(["sh", "-c", "echo $$; echo $PPID; exec sleep 60"], on_line=on_line)
            )
            while len(seen) < 2:
                await asyncio.sleep(0.01)
            command, session = seen
            own_pids.append(command)
            assert "sshd" in Path(f"/proc/{session}/cmdline").read_text()  # this session's sshd
            os.kill(session, signal.SIGKILL)
            await asyncio.wait_for(task, 10)

    begin = time.monotonic()
    with pytest.raises(FediError, match=r"lost the connection to fedi-test@127\.0\.0\.3") as caught:
        _run(go())
    assert "`sh -c 'echo $$; echo $PPID; exec sleep 60'`" in str(caught.value)
    assert time.monotonic() - begin < 5.0


# --- files -----------------------------------------------------------------------


def _tree(root: str) -> dict[str, int]:
    """Every entry below *root*, relative path → st_mode (lstat)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            found[os.path.relpath(path, root)] = os.lstat(path).st_mode
    return found


def test_put_file_is_private_exact_and_leaves_no_temp_file(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    secret = bytes(range(256)) + b"\n\x00no trailing newline"
    target = f"{remote_dir}/secrets/db/password"

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.put_file(target, secret)

    _run(go())
    assert Path(target).read_bytes() == secret
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(f"{remote_dir}/secrets").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(f"{remote_dir}/secrets/db").st_mode) == 0o700
    assert os.stat(target).st_uid == pwd.getpwnam(sshd_fast_host.user).pw_uid
    assert sorted(_tree(remote_dir)) == ["secrets", "secrets/db", "secrets/db/password"]


def test_put_file_replaces_atomically_with_the_new_mode(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    target = Path(remote_dir) / "app.env"
    target.write_text("OLD=1\n")
    target.chmod(0o644)
    old_inode = target.stat().st_ino

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.put_file(str(target), b"NEW=2\n", mode=0o640)
            # a new file renamed over the old one, not the old one rewritten in place
            assert target.stat().st_ino != old_inode
            assert stat.S_IMODE(target.stat().st_mode) == 0o640
            await m.put_file(str(target), b"NEWER=3\n")

    _run(go())
    assert target.read_bytes() == b"NEWER=3\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(_tree(remote_dir)) == ["app.env"]


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o400])
def test_put_file_mode_is_set_before_any_content(
    sshd_fast_host: SshHost, remote_dir: str, monkeypatch: pytest.MonkeyPatch, mode: int
) -> None:
    """At the first write the temp file already has its final mode, owner-only for secrets."""
    seen: list[tuple[str, int, int]] = []
    original = asyncssh.SFTPClientFile.write

    async def spy(self: asyncssh.SFTPClientFile, data: Any, offset: int | None = None) -> int:
        for name in os.listdir(remote_dir):
            st = os.stat(os.path.join(remote_dir, name))
            seen.append((name, stat.S_IMODE(st.st_mode), st.st_size))
        result: int = await original(self, data, offset)
        return result

    monkeypatch.setattr(asyncssh.SFTPClientFile, "write", spy)

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.put_file(f"{remote_dir}/token", b"s3cr3t", mode=mode)

    _run(go())
    assert len(seen) == 1
    name, seen_mode, size = seen[0]
    assert name.startswith(".token.fedi-tmp-")  # a temp file beside the target, still empty
    assert (seen_mode, size) == (mode, 0)
    assert stat.S_IMODE(os.stat(f"{remote_dir}/token").st_mode) == mode
    assert os.listdir(remote_dir) == ["token"]


def test_put_file_error_names_machine_and_path(sshd_fast_host: SshHost, remote_dir: str) -> None:
    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.put_file("/root/not-for-you/x", b"data")  # fedi-test may not write there

    with pytest.raises(FediError) as caught:
        _run(go())
    assert sshd_fast_host.address in str(caught.value)
    assert "/root/not-for-you" in str(caught.value)


def test_push_tree_removes_stale_files_only_inside(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    config = f"{remote_dir}/config"
    outside = Path(remote_dir) / "outside"
    outside.mkdir()
    (outside / "keep.nix").write_text("{ }\n")
    (Path(remote_dir) / "sibling.nix").write_text("{ }\n")
    first = {
        "configuration.nix": "{ }\n",
        "fediversity/default.nix": "{ }\n",
        "old/deep/gone.nix": "{ }\n",
        "old-top.nix": "{ }\n",
    }
    second = {"configuration.nix": "{ a = 1; }\n", "fediversity/default.nix": "{ b = 2; }\n"}

    async def go() -> tuple[Any, Any]:
        async with _connect(sshd_fast_host) as m:
            one = await m.push_tree(first, config)
            # things someone (or a crashed run) left behind: a link out, a temp file
            os.symlink(outside, f"{config}/link-out")
            os.symlink(outside / "keep.nix", f"{config}/fediversity/link-file")
            Path(f"{config}/.configuration.nix.fedi-tmp-abc").write_text("half")
            two = await m.push_tree(second, config)
            return one, two

    one, two = _run(go())
    assert one.written == tuple(sorted(first)) and one.removed == ()
    assert two.written == tuple(sorted(second))
    assert set(two.removed) == {
        ".configuration.nix.fedi-tmp-abc",
        "fediversity/link-file",
        "link-out",
        "old",
        "old-top.nix",
        "old/deep",
        "old/deep/gone.nix",
    }
    assert sorted(_tree(config)) == [MARKER, "configuration.nix", "fediversity",
                                     "fediversity/default.nix"]  # fmt: skip
    for rel, text in second.items():
        assert Path(config, rel).read_text() == text
        assert stat.S_IMODE(os.stat(f"{config}/{rel}").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(f"{config}/fediversity").st_mode) == 0o700
    # nothing outside the directory was touched, links were removed and not followed
    assert (outside / "keep.nix").read_text() == "{ }\n"
    assert (Path(remote_dir) / "sibling.nix").exists()


def test_push_tree_replaces_a_file_where_a_directory_must_go(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    config = f"{remote_dir}/config"

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.push_tree({"fediversity": "was a file\n", "x/y.nix": "{ }\n"}, config)
            await m.push_tree({"fediversity/default.nix": "{ }\n", "x": "now a file\n"}, config)

    _run(go())
    assert Path(config, "fediversity", "default.nix").read_text() == "{ }\n"
    assert Path(config, "x").read_text() == "now a file\n"


def test_push_tree_refuses_a_directory_it_does_not_manage(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    foreign = Path(remote_dir) / "hardware-configuration.nix"
    foreign.write_text("{ }\n")

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.push_tree({"configuration.nix": "{ }\n"}, remote_dir)

    with pytest.raises(FediError, match="did not put there") as caught:
        _run(go())
    assert remote_dir in str(caught.value)
    assert sorted(os.listdir(remote_dir)) == ["hardware-configuration.nix"]


@pytest.mark.parametrize(
    "files",
    [{"../escape.nix": ""}, {"/etc/passwd": ""}, {"a//b": ""}, {MARKER: ""}, {"a": "", "a/b": ""}],
    ids=["dotdot", "absolute", "empty-part", "marker", "file-and-dir"],
)
def test_push_tree_refuses_paths_outside_or_ambiguous(
    sshd_fast_host: SshHost, remote_dir: str, files: dict[str, str]
) -> None:
    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            await m.push_tree(files, f"{remote_dir}/config")

    with pytest.raises(ValueError):
        _run(go())
    assert os.listdir(remote_dir) == []


# --- activation --------------------------------------------------------------------


def test_push_demo_machines_and_activate_with_fake_nixos_rebuild(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    machines = _demo_files()
    assert "bare-1" in machines and len(machines) >= 2
    lines: dict[str, list[Line]] = {}

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            command = await _install_fake_rebuild(m, remote_dir)
            for name, files in machines.items():
                target = f"{remote_dir}/machines/{name}"
                await m.push_tree(files, target)
                got: list[Line] = lines.setdefault(name, [])
                status = await m.activate(target, on_line=_collect(got), command=command)
                assert status == 0

    _run(go())
    for name, files in machines.items():
        root = f"{remote_dir}/machines/{name}"
        assert {rel: Path(root, rel).read_text() for rel in files} == files
        assert set(_tree(root)) - {MARKER} == set(files) | {"fediversity"}
        got = _real(lines[name])
        nix_files = sorted(rel for rel in files if rel.endswith(".nix"))
        parsed = sorted(t.removeprefix("parsed ") for s, t in got if t.startswith("parsed "))
        assert parsed == nix_files  # every pushed module was reached from configuration.nix
        # stdout and stderr are separate pipes: order holds within each stream
        err = [t for s, t in got if s == "stderr"]
        assert err[0] == "building the system configuration..."
        assert err[-2:] == ["activating the configuration...", "setting up /etc..."]
        assert [t for s, t in got if s == "stdout"] == [
            f"fake-nixos-rebuild: switch: {len(nix_files)} files parse, "
            f"starting at {root}/configuration.nix"
        ]


def test_activation_fails_with_the_parse_error(sshd_fast_host: SshHost, remote_dir: str) -> None:
    files = dict(_demo_files()["bare-1"])
    broken = files["configuration.nix"].replace("networking.hostName =", "networking.hostName ==")
    assert broken != files["configuration.nix"]
    target = f"{remote_dir}/config"
    lines: list[Line] = []

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            command = await _install_fake_rebuild(m, remote_dir)
            await m.push_tree(files, target)
            await m.put_file(f"{target}/configuration.nix", broken.encode())
            await m.activate(target, on_line=lambda s, t: lines.append((s, t)), command=command)

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    assert f"activating {target}/configuration.nix on fedi-test@127.0.0.3:" in text
    assert "exited with status 1" in text
    assert "syntax error" in text
    assert f"{target}/configuration.nix:" in text  # nix's file:line:col
    assert ("stderr", "error: syntax error, unexpected EQ, expecting '.' or '='") in lines


def test_activation_fails_when_an_imported_module_is_missing(
    sshd_fast_host: SshHost, remote_dir: str
) -> None:
    files = {k: v for k, v in _demo_files()["bare-1"].items() if k != "fediversity/common.nix"}
    target = f"{remote_dir}/config"

    async def go() -> None:
        async with _connect(sshd_fast_host) as m:
            command = await _install_fake_rebuild(m, remote_dir)
            await m.push_tree(files, target)
            await m.activate(target, command=command)

    with pytest.raises(FediError, match=r"fediversity/common\.nix': No such file"):
        _run(go())


def test_as_root_the_production_login_user(sshd_host: SshHost, tmp_path: Path) -> None:
    """The other tests log in as the fast user; machines are reached as root in production."""
    target = tmp_path / "secrets" / "key"
    lines: list[Line] = []

    async def go() -> None:
        async with _connect(sshd_host) as m:
            await m.run(["id", "-u"], on_line=_collect(lines))
            await m.put_file(str(target), b"root only")

    _run(go())
    assert ("stdout", "0") in lines
    assert target.read_bytes() == b"root only"
    assert (target.stat().st_uid, stat.S_IMODE(target.stat().st_mode)) == (0, 0o600)


# --- trust and login -----------------------------------------------------------------


def test_connect_reports_the_verified_host_key(sshd_fast_host: SshHost) -> None:
    async def go() -> tuple[str | None, str]:
        async with _connect(sshd_fast_host) as m:
            return m.host_key, m.target

    host_key, target = _run(go())
    assert host_key == sshd_fast_host.host_public_key
    assert target == f"fedi-test@127.0.0.3:{sshd_fast_host.port}"


def test_pinned_host_key_is_accepted_without_known_hosts(
    sshd_fast_host: SshHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts to fall back on

    async def go() -> int:
        async with _connect(
            sshd_fast_host, known_hosts=None, host_key=sshd_fast_host.host_public_key + " c"
        ) as m:
            return await m.run(["true"])

    assert _run(go()) == 0


def test_wrong_pinned_host_key_is_refused_before_login(sshd_fast_host: SshHost) -> None:
    pinned = _other_public_key()
    logins = _accepted_logins(sshd_fast_host)

    async def go() -> None:
        async with _connect(sshd_fast_host, known_hosts=None, host_key=pinned):
            pass

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    assert "does not match the pinned host_key" in text
    assert sshd_fast_host.host_public_key in text  # what was presented …
    assert _fingerprint(sshd_fast_host.host_public_key_file) in text
    assert asyncssh.import_public_key(pinned).get_fingerprint("sha256") in text  # … vs pinned
    assert f'host_key = "{sshd_fast_host.host_public_key}"' in text  # how to re-pin
    assert "ssh-keygen -lf" in text
    assert _accepted_logins(sshd_fast_host) == logins  # no authentication was attempted


def test_pinned_key_of_another_type_is_refused_and_names_the_presented_key(
    sshd_fast_host: SshHost,
) -> None:
    pinned = _other_public_key("ecdsa-sha2-nistp256")  # the server has only ed25519

    async def go() -> None:
        async with _connect(sshd_fast_host, known_hosts=None, host_key=pinned):
            pass

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    assert "does not match the pinned host_key" in text
    assert sshd_fast_host.host_public_key in text
    assert "ecdsa-sha2-nistp256 SHA256:" in text


def test_unknown_host_key_is_refused(sshd_fast_host: SshHost, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"127.0.0.99 {_other_public_key()}\n")  # another host only

    async def go() -> None:
        async with _connect(sshd_fast_host, known_hosts=known_hosts):
            pass

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    pattern = known_hosts_pattern(sshd_fast_host.address, sshd_fast_host.port)
    assert "is unknown" in text
    assert f"{known_hosts} has no entry for {pattern}" in text
    assert sshd_fast_host.host_public_key in text
    assert _fingerprint(sshd_fast_host.host_public_key_file) in text
    assert f'"{pattern} {sshd_fast_host.host_public_key}"' in text
    assert known_hosts.read_text().count("\n") == 1  # never added by itself


def test_changed_host_key_in_known_hosts_is_refused(
    sshd_fast_host: SshHost, tmp_path: Path
) -> None:
    old = _other_public_key()
    pattern = known_hosts_pattern(sshd_fast_host.address, sshd_fast_host.port)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(f"{pattern} {old}\n")

    async def go() -> None:
        async with _connect(sshd_fast_host, known_hosts=known_hosts):
            pass

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    assert "has CHANGED" in text
    assert asyncssh.import_public_key(old).get_fingerprint("sha256") in text
    assert sshd_fast_host.host_public_key in text
    assert f"ssh-keygen -R '{pattern}' -f {known_hosts}" in text


@pytest.mark.parametrize(
    "entries",
    [
        "@revoked {pattern} {key}\n",  # only revoked
        "{pattern} {key}\n@revoked {pattern} {key}\n",  # trusted, then revoked
        "@revoked * {key}\n",  # revoked for every host
    ],
    ids=["revoked", "trusted-and-revoked", "revoked-everywhere"],
)
def test_a_revoked_host_key_is_reported_as_revoked(
    sshd_fast_host: SshHost, tmp_path: Path, entries: str
) -> None:
    pattern = known_hosts_pattern(sshd_fast_host.address, sshd_fast_host.port)
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text(entries.format(pattern=pattern, key=sshd_fast_host.host_public_key))
    before = _accepted_logins(sshd_fast_host)

    async def go() -> None:
        async with _connect(sshd_fast_host, known_hosts=known_hosts):
            pass

    with pytest.raises(FediError) as caught:
        _run(go())
    text = str(caught.value)
    assert "is REVOKED" in text and f"which {known_hosts} marks @revoked" in text
    assert sshd_fast_host.host_public_key in text
    assert _fingerprint(sshd_fast_host.host_public_key_file) in text
    assert "CHANGED" not in text and "could not be read" not in text and "unknown" not in text
    assert _accepted_logins(sshd_fast_host) == before  # nothing was sent


def test_no_pin_and_no_known_hosts_file_is_refused(
    sshd_fast_host: SshHost, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))

    async def go() -> None:
        async with _connect(sshd_fast_host, known_hosts=None):
            pass

    with pytest.raises(FediError, match="no host_key is pinned") as caught:
        _run(go())
    assert str(tmp_path / ".ssh" / "known_hosts") in str(caught.value)


def test_a_key_the_machine_does_not_accept_is_refused(
    sshd_fast_host: SshHost, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)

    h = sshd_fast_host
    with pytest.raises(FediError) as caught:
        _log_in_and_out(h.address, h.port, h.user, stranger, known_hosts=h.known_hosts)
    text = str(caught.value)
    assert f"fedi-test@127.0.0.3:{sshd_fast_host.port} refused the key {stranger}" in text
    assert Path(f"{stranger}.pub").read_text().split()[1] in text  # the public key to add


def test_a_missing_key_file_is_reported(sshd_fast_host: SshHost, tmp_path: Path) -> None:
    h = sshd_fast_host
    with pytest.raises(FediError, match=r"cannot read the SSH key .*nope.*ssh\.key"):
        _log_in_and_out(
            "127.0.0.3", h.port, "fedi-test", tmp_path / "nope", known_hosts=h.known_hosts
        )


def test_connection_refused(sshd_fast_host: SshHost) -> None:
    port = free_port("127.0.0.3")  # bound and closed again: nothing listens there
    h = sshd_fast_host
    with pytest.raises(FediError, match=f"connection refused on 127.0.0.3:{port}"):
        _log_in_and_out("127.0.0.3", port, "fedi-test", h.client_key, known_hosts=h.known_hosts)


def test_login_timeout_on_a_silent_port(sshd_fast_host: SshHost) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)  # accepts (kernel backlog) but never speaks
        port = sock.getsockname()[1]

        h = sshd_fast_host
        begin = time.monotonic()
        with pytest.raises(FediError, match=r"did not finish within 0\.5 s"):
            _log_in_and_out(
                "127.0.0.1", port, "fedi-test", h.client_key, known_hosts=h.known_hosts, timeout=0.5
            )
        assert time.monotonic() - begin < 3.0
