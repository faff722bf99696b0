"""Shared helpers of our benchmarks: machine facts and the JSON line, in the peer's shape
(../shared/bench/peer_helpdesk/_common.py), so lines of both systems can be compared."""

from __future__ import annotations

import json
import math
import os
import platform
from typing import Any


def env_facts() -> dict[str, Any]:
    import django
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SHOW server_version")
            db = f"postgresql {cur.fetchone()[0].split()[0]}"
    else:
        import sqlite3

        db = f"sqlite {sqlite3.sqlite_version}"
    mem_gib = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "system": "contactcenter",
        "system_version": "0.1.0",
        "django": django.get_version(),
        "python": platform.python_version(),
        "db": db,
        "nproc": os.cpu_count(),
        "mem_gib": mem_gib,
    }


def emit(record: dict[str, Any], out_path: str | None = None) -> None:
    line = json.dumps(record, ensure_ascii=False)
    print(line, flush=True)
    if out_path:
        with open(out_path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


def pct(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile, as the peer computes it."""
    if not values:
        return None
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100.0 * len(s)) - 1))
    return round(s[k], 2)


def latency(samples_ms: list[float]) -> dict[str, Any]:
    return {
        "p50_ms": pct(samples_ms, 50),
        "p95_ms": pct(samples_ms, 95),
        "p99_ms": pct(samples_ms, 99),
        "mean_ms": round(sum(samples_ms) / len(samples_ms), 2) if samples_ms else None,
        "min_ms": round(min(samples_ms), 2) if samples_ms else None,
        "max_ms": round(max(samples_ms), 2) if samples_ms else None,
        "samples": len(samples_ms),
    }
