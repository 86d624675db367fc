"""SeaweedFS (Apache-2.0), the S3-compatible object store of the tests and of compose's set-up,
started by the project in a folder of its own on loopback: `weed mini` (master, volume, filer and
the S3 gateway in one process) with every port chosen, the web UIs off, and one admin identity
(the access key pair given through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, as `weed` reads it).

`scripts/ensure-seaweedfs.sh` builds `weed` from the Go module proxy at one exact version into
~/.cache/premium-claims/seaweedfs/ (minutes the first time on two cores; cached after).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from dev.processes import stop_process

ROOT = Path(__file__).resolve().parents[1]
ENSURE = ROOT / "scripts" / "ensure-seaweedfs.sh"
PORTS_NEEDED = 8  # master, volume, filer, s3: http and grpc each


def weed_binary() -> Path:
    """The cached `weed`, built by the project script if it is not there yet."""
    done = subprocess.run(["sh", str(ENSURE)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"could not build SeaweedFS's weed ({ENSURE}):\n{done.stderr[-3000:]}")
    return Path(done.stdout.strip().splitlines()[-1])


@dataclass
class SeaweedFS:
    home: Path
    s3_port: int
    access_key_id: str
    secret_access_key: str
    process: subprocess.Popen[bytes]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    def stop(self) -> None:
        stop_process(self.process, 15)


def start(home: Path, ports: list[int], timeout: float = 120) -> SeaweedFS:
    """`weed mini` on 127.0.0.1 with its data in home/data, on the eight ports given; waits until
    the S3 gateway answers an authenticated call."""
    if len(ports) < PORTS_NEEDED:
        raise ValueError(f"SeaweedFS needs {PORTS_NEEDED} ports")
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports[:PORTS_NEEDED]
    home = Path(home).resolve()
    (home / "data").mkdir(parents=True, exist_ok=True)
    access, secret = "PC" + secrets.token_hex(8).upper(), secrets.token_urlsafe(24)
    command = [
        str(weed_binary()),
        "mini",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={home / 'data'}",
        f"-master.port={master}",
        f"-master.port.grpc={master_grpc}",
        f"-volume.port={volume}",
        f"-volume.port.grpc={volume_grpc}",
        f"-filer.port={filer}",
        f"-filer.port.grpc={filer_grpc}",
        f"-s3.port={s3}",
        f"-s3.port.grpc={s3_grpc}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.localSocket={home / 's3.sock'}",
        "-webdav=false",
        "-admin.ui=false",
        "-admin.port.legacy=0",
    ]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access, "AWS_SECRET_ACCESS_KEY": secret}
    log = (home / "weed.log").open("wb")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    server = SeaweedFS(home, s3, access, secret, process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed mini exited ({process.returncode}):\n{_tail(home / 'weed.log')}")
        try:
            # any HTTP answer from the S3 port (403 to an unsigned call) means the gateway is up
            httpx.get(server.endpoint, timeout=2)
            if _s3_ready(server):
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    server.stop()
    raise RuntimeError(f"SeaweedFS's S3 gateway did not answer within {timeout} s:\n{_tail(home / 'weed.log')}")


def _s3_ready(server: SeaweedFS) -> bool:
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = boto3.client(
        "s3",
        endpoint_url=server.endpoint,
        region_name="us-east-1",
        aws_access_key_id=server.access_key_id,
        aws_secret_access_key=server.secret_access_key,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    probe = "ready-" + secrets.token_hex(4)
    try:
        client.create_bucket(Bucket=probe)  # the filer and a volume must be up for this
        client.put_object(Bucket=probe, Key="probe", Body=b"ok")
        client.delete_object(Bucket=probe, Key="probe")
        client.delete_bucket(Bucket=probe)
    except (BotoCoreError, ClientError):
        return False
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
