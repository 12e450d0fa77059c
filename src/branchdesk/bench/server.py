"""The CPU a local server spends during a benchmark, read from /proc (Linux).

A bench finds the processes listening on its URL's port (every worker of ``serve --workers N``
holds the socket) and reads their user + system CPU before and after a phase: a stable figure
when the machine is shared, where wall-clock rates are not.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit


def server_pids(base_url: str) -> list[int]:
    """The local processes listening on the URLs' ports (Linux /proc); empty elsewhere."""
    ports = {urlsplit(u.strip()).port or 80 for u in base_url.split(",") if u.strip()}
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == "0A" and int(fields[1].split(":")[1], 16) in ports:
                inodes.add(f"socket:[{fields[9]}]")
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
        except OSError:  # gone, or not ours to read
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:  # closed meanwhile (the listing's own descriptor, say)
                continue
            if link in inodes:
                pids.append(int(entry.name))
                break
    return sorted(pids)


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU of the processes so far (None without /proc or processes)."""
    if not pids:
        return None
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks
