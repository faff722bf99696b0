"""Real mail servers for tests: Debian's Dovecot (IMAP) and an aiosmtpd SMTP sink.

Neither is mocked: the IMAP poller talks to a real ``dovecot`` over TCP, and outbound mail goes
through Django's SMTP backend to a real SMTP server that keeps what it receives.

Dovecot runs as a child process (``dovecot -F``) with a configuration of its own in a temporary
directory: IMAP only, on 127.0.0.1 and a free high port, no TLS, plaintext login allowed, users
from a ``passwd-file``, Maildir storage. It needs the ``dovecot-imapd`` package (``.ci/run``
installs it). When it is missing, tests skip with a reason, except under ``CI=true`` or
``REQUIRE_SERVICES=1``, where they fail (like the integration tests, see tests/conftest.py).

    with dovecot_running() as dovecot:
        folder = dovecot.new_folder()             # a fresh, empty folder for one test
        uid = dovecot.deliver(raw_bytes, folder=folder)
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from common.processes import stop_process_group

DOVECOT_START_TIMEOUT = 15.0
DOVECOT_USER = "intake"
DOVECOT_PASSWORD = "intake-secret"


def free_port() -> int:
    """A TCP port nobody listens on right now (the server binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def skip_or_fail(reason: str) -> None:
    """Skip, or fail under CI=true / REQUIRE_SERVICES=1 (a missing server is then a bug)."""
    from tests.conftest import services_required

    if services_required():
        pytest.fail(f"CI=true/REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# --- Dovecot -------------------------------------------------------------------------------------
def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next(
        (p for p in ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot") if os.access(p, os.X_OK)),
        None,
    )


@dataclass
class DovecotServer:
    """A running Dovecot with one user (``user``/``password``) on ``host:port``."""

    process: subprocess.Popen[bytes]
    root: Path
    host: str
    port: int
    user: str
    password: str
    folders: list[str] = field(default_factory=list)

    def log(self) -> str:
        try:
            return (self.root / "dovecot.log").read_text(errors="replace")
        except OSError as exc:
            return f"(no dovecot log: {exc})"

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in imaplib connection (the test's own, not the poller's)."""
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def new_folder(self) -> str:
        """Create an empty folder with a unique name: each test gets its own mailbox."""
        name = f"T{uuid.uuid4().hex[:12]}"
        with self.client() as conn:
            _ok(conn.create(name))
        return name

    def recreate_folder(self, name: str) -> None:
        """DELETE and CREATE the folder: it comes back empty, with a new UIDVALIDITY."""
        with self.client() as conn:
            _ok(conn.delete(name))
            _ok(conn.create(name))

    def deliver(self, raw: bytes, *, folder: str = "INBOX") -> int:
        """APPEND one message; its UID (from the APPENDUID response, RFC 4315)."""
        with self.client() as conn:
            data = _ok(conn.append(folder, None, None, raw))
        # [b'[APPENDUID <uidvalidity> <uid>] Append completed ...']
        return int(data[0].split(b"]", 1)[0].split()[-1])

    def uidvalidity(self, folder: str) -> int:
        with self.client() as conn:
            _ok(conn.select(folder, readonly=True))
            return int(conn.response("UIDVALIDITY")[1][0])

    def flags(self, folder: str) -> dict[int, bytes]:
        """UID -> the FLAGS list (to show that polling leaves messages unread)."""
        with self.client() as conn:
            _ok(conn.select(folder, readonly=True))
            _typ, data = conn.uid("FETCH", "1:*", "(FLAGS)")
        result = {}
        for line in data:
            if isinstance(line, bytes) and b"UID " in line:
                uid = int(line.split(b"UID ", 1)[1].split()[0].rstrip(b")"))
                result[uid] = line.split(b"FLAGS (", 1)[1].split(b")", 1)[0]
        return result


def _ok(response: tuple[str, list]) -> list:  # type: ignore[type-arg]
    typ, data = response
    if typ != "OK":
        raise AssertionError(f"IMAP command failed: {typ} {data}")
    return data


def _mail_owner() -> tuple[int, int, str]:
    """uid, gid and name Dovecot keeps the mail as. Dovecot refuses UID 0 for mail, so as root
    we use ``nobody``; otherwise the current user (Dovecot then runs unprivileged)."""
    entry = pwd.getpwnam("nobody") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
    return entry.pw_uid, entry.pw_gid, entry.pw_name


def _dovecot_conf(root: Path, port: int, *, uid: int) -> str:
    lines = [
        "protocols = imap",
        "listen = 127.0.0.1",
        f"base_dir = {root}/run",
        f"state_dir = {root}/state",
        f"instance_name = pytest-dovecot-{port}",
        f"log_path = {root}/dovecot.log",
        f"info_log_path = {root}/dovecot.log",
        "ssl = no",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        # A wrong password answers at once, and does not slow down the next logins from
        # 127.0.0.1: anvil's auth penalty (seconds per failure) is off when the auth process
        # cannot reach its socket.
        "auth_failure_delay = 0",
        "service anvil {",
        "  unix_listener anvil-auth-penalty {",
        "    mode = 0",
        "  }",
        "}",
        "mail_location = maildir:~/Maildir",
        "passdb {",
        "  driver = passwd-file",
        f"  args = {root}/passwd",
        "}",
        "userdb {",
        "  driver = passwd-file",
        f"  args = {root}/passwd",
        "}",
        "service imap-login {",
        "  inet_listener imap {",
        f"    port = {port}",
        "  }",
        "  inet_listener imaps {",
        "    port = 0",
        "  }",
        "}",
    ]
    if os.geteuid() != 0:
        # Unprivileged: every service runs as us, without chroot.
        name = pwd.getpwuid(uid).pw_name
        lines += [
            f"default_internal_user = {name}",
            f"default_login_user = {name}",
            "service anvil {\n  chroot =\n}",  # merged with the block above
            "service imap-login {\n  chroot =\n}",
        ]
    return "\n".join(lines) + "\n"


def _wait_for_greeting(server: DovecotServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"dovecot exited with code {server.process.returncode}. "
                f"Output: {(server.root / 'stdout.log').read_text(errors='replace')}\n"
                f"Log: {server.log()}"
            )
        try:
            with socket.create_connection((server.host, server.port), timeout=1) as sock:
                if sock.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"dovecot did not answer within {timeout:.0f} s. Log: {server.log()}"
            )
        time.sleep(0.1)


@contextlib.contextmanager
def dovecot_running() -> Iterator[DovecotServer]:
    """Start a private Dovecot (skip, or fail in CI, when it is not installed); stop it after."""
    binary = dovecot_binary()
    if binary is None:
        skip_or_fail("dovecot is not installed (apt-get install dovecot-imapd)")
    assert binary is not None
    # Not pytest's tmp_path: its parent is mode 0700, and Dovecot's mail processes run as
    # another user who must reach the Maildir.
    root = Path(tempfile.mkdtemp(prefix="pytest-dovecot-"))
    root.chmod(0o755)
    uid, gid, _ = _mail_owner()
    home = root / "mail" / DOVECOT_USER
    home.mkdir(parents=True)
    for path in (root / "mail", home):
        os.chown(path, uid, gid)
    (root / "passwd").write_text(
        f"{DOVECOT_USER}:{{PLAIN}}{DOVECOT_PASSWORD}:{uid}:{gid}::{home}::\n"
    )
    port = free_port()
    (root / "dovecot.conf").write_text(_dovecot_conf(root, port, uid=uid))
    with (root / "stdout.log").open("wb") as out:
        process = subprocess.Popen(
            [binary, "-F", "-c", str(root / "dovecot.conf")],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = DovecotServer(
        process=process,
        root=root,
        host="127.0.0.1",
        port=port,
        user=DOVECOT_USER,
        password=DOVECOT_PASSWORD,
    )
    try:
        _wait_for_greeting(server, DOVECOT_START_TIMEOUT)
        yield server
    finally:
        stop_process_group(process, timeout=5)
        shutil.rmtree(root, ignore_errors=True)


# --- SMTP sink -----------------------------------------------------------------------------------
@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes

    def message(self):  # type: ignore[no-untyped-def]
        import email
        from email import policy

        return email.message_from_bytes(self.content, policy=policy.default)


class _Collector:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]
        self.received.append(
            ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=list(envelope.rcpt_tos),
                content=envelope.original_content or envelope.content,
            )
        )
        return "250 Message accepted for delivery"


@dataclass
class SmtpSink:
    host: str
    port: int
    collector: _Collector

    @property
    def received(self) -> list[ReceivedMail]:
        return self.collector.received


@contextlib.contextmanager
def smtp_sink_running() -> Iterator[SmtpSink]:
    """An aiosmtpd server on 127.0.0.1:<free port> that keeps every message it is given."""
    try:
        from aiosmtpd.controller import Controller
    except ImportError:
        skip_or_fail("aiosmtpd is not installed (it is in requirements-dev.lock)")
    collector = _Collector()
    port = free_port()
    controller = Controller(collector, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers
    try:
        yield SmtpSink(host="127.0.0.1", port=port, collector=collector)
    finally:
        controller.stop()


# --- A private Redis server (the reliability tests stop and start it) ------------------------


@dataclass
class RedisServer:
    """``redis-server`` on 127.0.0.1:<free port>, in memory only; ``stop()`` and ``start()``
    take it away and bring it back on the same port, as an outage would."""

    port: int
    workdir: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        log = (self.workdir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), 0.5) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None


@contextlib.contextmanager
def redis_server_running(workdir: Path) -> Iterator[RedisServer]:
    if not (shutil.which("redis-server") or Path("/usr/bin/redis-server").exists()):
        skip_or_fail("redis-server is not installed")
    server = RedisServer(port=free_port(), workdir=workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
