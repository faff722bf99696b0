"""Run the whole application on one machine with nothing to install: ``make demo``.

Starts a Celery worker with embedded beat (kombu's filesystem transport under var/broker and
the SQLite database under var/, unless the environment says otherwise) as a child process of
the same Python, then Django's development server in the foreground. Ctrl-C or SIGTERM stops
both: the worker gets SIGTERM (Celery's warm shutdown) and, if it has not exited after a grace
period, SIGKILL for its whole process group.

With the autoreloader on (the default), Django runs the server in a child process that it
restarts on every code change; the worker is started once, by the outer process, and is *not*
restarted on code changes (restart ``make demo`` after changing a task).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.urls import NoReverseMatch, reverse
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from common.processes import stop_process_group

#: Usernames that ``seed_demo`` creates (password ``demo-<username>``); used only when
#: ``cases.demo.catalogue.DEMO_USERS`` cannot be imported.
FALLBACK_DEMO_USERNAMES = ("agent", "supervisor", "handler", "handler2", "depsup", "comms", "admin")

WORKER_READY_TIMEOUT = 60.0
WORKER_STOP_TIMEOUT = 20.0


def demo_logins() -> list[tuple[str, str, str]]:
    """``(username, password, description)`` of the demo users that exist in the database."""
    entries: list[tuple[str, str, str]] = []
    try:
        from cases.demo.catalogue import DEMO_USERS  # type: ignore[import-not-found]
    except ImportError:
        DEMO_USERS = None
    if DEMO_USERS:
        items: Any = DEMO_USERS.items() if isinstance(DEMO_USERS, dict) else DEMO_USERS
        for item in items:
            entries.append(_login_entry(item))
    else:
        entries = [(name, f"demo-{name}", "") for name in FALLBACK_DEMO_USERNAMES]

    from django.contrib.auth import get_user_model
    from django.db import DatabaseError

    user_model = get_user_model()
    try:
        existing = set(
            user_model.objects.filter(
                **{f"{user_model.USERNAME_FIELD}__in": [e[0] for e in entries]}
            ).values_list(user_model.USERNAME_FIELD, flat=True)
        )
    except DatabaseError:
        return []
    return [e for e in entries if e[0] in existing]


def _login_entry(item: Any) -> tuple[str, str, str]:
    """Read one entry of DEMO_USERS, whatever its shape (mapping item, dict, object, tuple)."""

    def field(obj: Any, *names: str) -> str:
        for name in names:
            value = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
            if value:
                return str(value)
        return ""

    if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
        username, rest = item  # (username, spec) from a dict, or (username, role)
        if isinstance(rest, str):
            return username, f"demo-{username}", rest
        spec = rest
    elif isinstance(item, tuple | list):
        username = str(item[0])
        return username, f"demo-{username}", " ".join(str(x) for x in item[1:2])
    else:
        username, spec = field(item, "username"), item
    password = field(spec, "password") or f"demo-{username}"
    description = field(spec, "description", "title", "role", "label")
    department = field(spec, "department")
    if department:
        description = f"{description} ({department})" if description else department
    return username, password, description


def _set_parent_death_signal() -> None:
    """Linux: the worker gets SIGTERM if this process dies without cleaning up (SIGKILL)."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class EmbeddedWorker:
    """A ``celery worker -B`` child process whose output goes to a log file and the terminal."""

    def __init__(self, *, concurrency: int, log_path: Path, echo: Any | None) -> None:
        self.concurrency = concurrency
        self.log_path = log_path
        self.echo = echo  # a callable taking a line, or None to write only the log file
        self.process: subprocess.Popen[str] | None = None
        self.ready = threading.Event()
        self.tail: deque[str] = deque(maxlen=40)
        self._pump: threading.Thread | None = None

    def command(self) -> list[str]:
        var_dir = Path(settings.VAR_DIR)
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "contactcenter",
            "worker",
            "--beat",
            f"--schedule={var_dir / 'celerybeat-schedule'}",
            # Threads, not prefork: one process for the worker (plus beat), fast start, and no
            # forked copies of an open SQLite connection. Tasks are short and I/O bound.
            "--pool=threads",
            f"--concurrency={self.concurrency}",
            # Mingle and gossip only matter between several workers and poll the broker's
            # fanout tables every second on the filesystem transport.
            "--without-mingle",
            "--without-gossip",
            "--hostname=embedded@%h",
            "--loglevel=INFO",
        ]

    def start(self) -> None:
        broker_dir = Path(settings.BROKER_DIR)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop(DJANGO_AUTORELOAD_ENV, None)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(settings.BASE_DIR), env.get("PYTHONPATH", "")) if p
        )
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(  # noqa: S603 - fixed argv, our own interpreter
            self.command(),
            # The filesystem transport keeps its fanout tables (remote control) in a folder
            # relative to the working directory unless ``control_folder`` is configured: run the
            # worker inside var/broker so they land there and not in the source tree.
            cwd=broker_dir if broker_dir.is_dir() else settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Own session: a terminal's Ctrl-C reaches only us, and we stop the worker in order.
            start_new_session=True,
            preexec_fn=_set_parent_death_signal if sys.platform.startswith("linux") else None,
        )
        self._pump = threading.Thread(target=self._pump_output, name="worker-output", daemon=True)
        self._pump.start()

    def _pump_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        with self.log_path.open("a", encoding="utf-8") as log:
            for line in self.process.stdout:
                log.write(line)
                log.flush()
                self.tail.append(line.rstrip())
                if " ready." in line:
                    self.ready.set()
                if self.echo is not None:
                    self.echo(line.rstrip("\n"))

    def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready.wait(0.2):
                return True
            if self.process is None or self.process.poll() is not None:
                return False
        return False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = WORKER_STOP_TIMEOUT) -> int | None:
        process = self.process
        if process is None:
            return None
        stop_process_group(process, timeout=timeout)
        # Beat runs in a child of the worker: make sure nothing of the group is left behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if self._pump is not None:
            self._pump.join(timeout=5)
        return process.returncode


class Command(BaseCommand):
    help = (
        "Run the development server together with a Celery worker and embedded beat "
        "(the one-command demo). Ctrl-C stops both."
    )
    # runserver runs the system checks itself (once per autoreload).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (127.0.0.1).")
        parser.add_argument("--port", type=int, default=8000, help="Port to bind (8000).")
        parser.add_argument(
            "--noreload",
            action="store_true",
            help="Do not restart the web server on code changes.",
        )
        parser.add_argument(
            "--no-worker", action="store_true", help="Run only the web server, no Celery worker."
        )
        parser.add_argument(
            "--concurrency", type=int, default=2, help="Worker threads (default 2)."
        )
        parser.add_argument(
            "--quiet-worker",
            action="store_true",
            help="Write the worker's output only to var/log/worker.log, not to the terminal.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        addrport = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        use_reloader = not options["noreload"]

        if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
            # The autoreloader's child: the outer process already started the worker.
            call_command("runserver", addrport, use_reloader=True)
            return

        self._check_port_free(host, port)
        var_dir = Path(settings.VAR_DIR)
        self._prepare_directories(var_dir)

        worker: EmbeddedWorker | None = None
        if not options["no_worker"]:
            worker = EmbeddedWorker(
                concurrency=options["concurrency"],
                log_path=var_dir / "log" / "worker.log",
                echo=None if options["quiet_worker"] else self._echo_worker_line,
            )

        # SIGTERM (e.g. from a process manager) ends the server like Ctrl-C does, so the
        # ``finally`` below stops the worker. (The autoreloader installs the same handler.)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            if worker is not None:
                worker.start()
                if not worker.wait_ready(WORKER_READY_TIMEOUT):
                    if not worker.alive:
                        tail = "\n".join(worker.tail)
                        raise CommandError(f"The Celery worker did not start:\n{tail}")
                    self.stderr.write(
                        f"The Celery worker is not ready after {WORKER_READY_TIMEOUT:.0f} s; "
                        f"starting the web server anyway (see {worker.log_path})."
                    )
            self._print_banner(host, port, worker)
            call_command("runserver", addrport, use_reloader=use_reloader)
        except KeyboardInterrupt:
            pass
        finally:
            if worker is not None and worker.process is not None:
                self.stdout.write("Stopping the Celery worker…")
                code = worker.stop()
                self.stdout.write(f"Celery worker stopped (exit code {code}).")

    # --- helpers ------------------------------------------------------------------------------
    def _echo_worker_line(self, line: str) -> None:
        self.stdout.write(f"worker | {line}")

    def _check_port_free(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError as exc:
                raise CommandError(
                    f"Cannot listen on {host}:{port} ({exc.strerror}). Is the demo already "
                    f"running? Choose another port: make demo PORT=8001"
                ) from exc

    def _prepare_directories(self, var_dir: Path) -> None:
        dirs = [var_dir, var_dir / "log", Path(settings.MEDIA_ROOT)]
        if settings.CELERY_BROKER_URL.startswith("filesystem"):
            options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
            broker_dir = Path(settings.BROKER_DIR)
            dirs += [broker_dir, broker_dir / "queue", broker_dir / "processed"]
            dirs += [
                Path(options[key])
                for key in (
                    "data_folder_in",
                    "data_folder_out",
                    "processed_folder",
                    "control_folder",
                )
                if options.get(key)
            ]
        if settings.EMAIL_FILE_PATH:
            dirs.append(Path(settings.EMAIL_FILE_PATH))
        for directory in dirs:
            directory.mkdir(parents=True, exist_ok=True)

    def _print_banner(self, host: str, port: int, worker: EmbeddedWorker | None) -> None:
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104
        shown_host = f"[{shown_host}]" if ":" in shown_host else shown_host
        base = f"http://{shown_host}:{port}"

        def url(name: str, fallback: str) -> str:
            try:
                return base + reverse(name)
            except NoReverseMatch:
                return base + fallback

        style = self.style
        lines = [
            "",
            style.SUCCESS("Contact center demo"),
            f"  Web:        {base}/",
            f"  Log in:     {url('login', '/login/')}",
            f"  API:        {base}/api/v1/",
            f"  API docs:   {url('api-docs', '/api/docs/')}",
            f"  Admin:      {url('admin:index', '/admin/')}",
        ]
        if worker is not None:
            lines.append(
                f"  Worker:     celery worker + beat, pid {worker.process.pid if worker.process else '?'}"
                f" (log: {worker.log_path})"
            )
        logins = demo_logins()
        if logins:
            width = max(len(u) for u, _, _ in logins)
            pwidth = max(len(p) for _, p, _ in logins)
            lines.append("")
            lines.append(style.MIGRATE_HEADING("Demo logins (username / password):"))
            lines += [f"  {u.ljust(width)}  {p.ljust(pwidth)}  {d}".rstrip() for u, p, d in logins]
        else:
            lines.append("")
            lines.append("  No demo users yet: run `python manage.py seed_demo`.")
        lines += ["", "Press Ctrl-C to stop the web server and the worker.", ""]
        self.stdout.write("\n".join(lines))
