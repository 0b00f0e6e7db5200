"""A throwaway PostgreSQL + PostGIS cluster for the tests and the store benchmark.

``initdb`` into a temporary folder, started on a free loopback port (and a Unix socket in
the same folder), trust authentication for one superuser, PostGIS created in a database.
Nothing outside the folder is touched and :meth:`Cluster.stop` removes it. Run as root (as
CI does), the server runs as the ``postgres`` user, because PostgreSQL refuses root.

    python tools/pg_cluster.py          # start one, print its URL, stop it on Enter
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "citydesk_dba"
DATABASE = "citydesk_test"


class ClusterUnavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed here."""


def find_bindir() -> Path:
    """The newest installed PostgreSQL server binaries (PG_BINDIR overrides)."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if not found:
        raise ClusterUnavailable(
            "PostgreSQL server binaries not found (apt-get install postgresql-15)"
        )
    return Path(found[-1]).parent


def _postgis_installed(bindir: Path) -> bool:
    share = (
        subprocess.run(
            [str(bindir / "pg_config"), "--sharedir"], capture_output=True, text=True
        ).stdout.strip()
        or f"/usr/share/postgresql/{bindir.parent.name}"
    )
    return bool(glob.glob(f"{share}/extension/postgis.control"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, fsync: bool = False) -> None:
        self.bindir = find_bindir()
        if not _postgis_installed(self.bindir):
            raise ClusterUnavailable("PostGIS not found (apt-get install postgresql-15-postgis-3)")
        self.root = Path(tempfile.mkdtemp(prefix="citydesk-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.fsync = fsync
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, check=True)

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> Cluster:
        self._run(
            "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions",
        )  # fmt: skip
        self._pg_ctl_start()
        self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres",
            "-q", "-c", f"CREATE DATABASE {DATABASE}",
        )  # fmt: skip
        self.psql("CREATE EXTENSION postgis")
        return self

    def _pg_ctl_start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
            "-o", options, "start",
        )  # fmt: skip

    def psql(self, command: str) -> str:
        return self._run(
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", SUPERUSER, "-d", DATABASE,
            "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", command,
        ).stdout  # fmt: skip

    def restart(self, mode: str = "immediate") -> None:
        """Stop (``immediate`` is a crash: no checkpoint, recovery on start) and start."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self._pg_ctl_start()

    def stop(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


if __name__ == "__main__":
    with Cluster() as cluster:
        print(cluster.url)
        input("Press Enter to stop the cluster ...")
