"""nginx from Debian's packages in front of two or more API processes, started by the project in a
folder of its own (config, pid, logs, temp files), never the system's service or port 80.

The two-host test runs it; compose runs the same directives (deploy/nginx/nginx.conf) in front of
the `api` replicas. `scripts/ensure-nginx.sh` installs the package.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from dev.processes import stop_process

INSTALL_HINT = "sh scripts/ensure-nginx.sh (Debian's nginx package)"

# What compose's deploy/nginx/nginx.conf holds too: a failed or refusing API process is passed
# over for the next (a request is retried there only when nothing was sent to the first), and
# uploads stream through to the API, which enforces its own limit.
PROXY = """
        proxy_pass http://api;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout http_502 http_503;
        proxy_request_buffering off;
        proxy_read_timeout 120s;
        client_max_body_size 25m;
"""


def binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        raise RuntimeError(f"nginx is not installed: run {INSTALL_HINT}")
    return found


def config(home: Path, port: int, upstreams: Sequence[str], host: str = "127.0.0.1") -> str:
    servers = "\n".join(f"        server {u} max_fails=1 fail_timeout=5s;" for u in upstreams)
    return f"""# written by dev/nginx.py
worker_processes 1;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$request $status $upstream_addr';
    access_log {home}/access.log upstream;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    upstream api {{
{servers}
        keepalive 16;
    }}
    server {{
        listen {host}:{port};
        location / {{{PROXY}        }}
    }}
}}
"""


@dataclass
class Nginx:
    home: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def access_log(self) -> str:
        path = self.home / "access.log"
        return path.read_text() if path.exists() else ""

    def stop(self) -> None:
        stop_process(self.process, 10)


def start(home: Path, port: int, upstreams: Sequence[str], ready_path: str = "/health", timeout: float = 30) -> Nginx:
    """nginx on 127.0.0.1:port proxying to the upstreams (host:port each); waits until it answers."""
    home = Path(home).resolve()
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    home.chmod(0o711)  # under root nginx's workers run as nobody: they pass through to tmp/
    conf = home / "nginx.conf"
    conf.write_text(config(home, port, upstreams))
    check = subprocess.run([binary(), "-t", "-p", str(home), "-c", str(conf)], capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"nginx refused its config:\n{check.stderr}")
    process = subprocess.Popen(
        [binary(), "-p", str(home), "-c", str(conf), "-g", "daemon off;"],
        stdout=subprocess.DEVNULL,
        stderr=(home / "stderr.log").open("wb"),
    )
    server = Nginx(home, port, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited: {(home / 'error.log').read_text(errors='replace')[-2000:]}")
        try:
            if httpx.get(server.url + ready_path, timeout=2).status_code < 500:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError(f"nginx on port {port} did not answer within {timeout} s")
