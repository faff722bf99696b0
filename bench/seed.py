#!/usr/bin/env python
"""Seed benchmark: time ``seed_demo`` against PostgreSQL and print its JSON line.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/cc_bench \\
        .venv/bin/python bench/seed.py --contacts 1000000 --out results.jsonl

Creates the database if it does not exist, runs ``migrate``, then
``seed_demo --reset --json`` in a child process (so the settings read ``DATABASE_URL`` the
normal way). Progress goes to stderr; the JSON line goes to stdout and, with ``--out``, is
appended to that file, in the same shape as ../shared/bench/peer_helpdesk/ (see README.md).
The database is left in place for the other benchmarks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/cc_bench"


def ensure_database(url: str) -> None:
    """CREATE DATABASE unless it exists (connecting to the server's ``postgres`` database)."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"[seed] created database {name}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--end-date", default=None, help="YYYY-MM-DD (default: today)")
    parser.add_argument("--label", default=None, help="tag added to the JSON line")
    parser.add_argument("--out", default=None, help="append the JSON line to this file")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/seed.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    ensure_database(url)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "contactcenter.settings.dev")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, cwd=ROOT)

    command = [*manage, "seed_demo", "--reset", "--json", "--contacts", str(args.contacts),
               "--years", str(args.years), "--seed", str(args.seed)]  # fmt: skip
    if args.end_date:
        command += ["--end-date", args.end_date]
    record = None
    with subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("{"):
                record = json.loads(line)
            else:
                print(line, end="", file=sys.stderr, flush=True)
    if child.returncode != 0 or record is None:
        print(f"[seed] seed_demo failed (exit {child.returncode})", file=sys.stderr)
        return 1
    if args.label:
        record = {**record, "label": args.label}
    line = json.dumps(record, ensure_ascii=False)
    print(line, flush=True)
    if args.out:
        with open(args.out, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
