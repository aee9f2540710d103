"""Hosts for the partition test: network namespaces joined by veth pairs to a
bridge that the test creates (and removes) on a private 10.231.x.0/24, and TCP
forwarders that put this machine's PostgreSQL and a test S3 server on the
bridge's address. Nothing here sends traffic to an address it did not create,
except the forwarders' connections to the services on 127.0.0.1."""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


def _ip(*args: str, ns: str | None = None) -> None:
    cmd = ["ip", *args] if ns is None else ["ip", "netns", "exec", ns, "ip", *args]
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=20)


def unavailable() -> str | None:
    """Why namespaces cannot be made here (None when they can)."""
    if os.geteuid() != 0:
        return "the partition test makes network namespaces and needs root"
    if shutil.which("ip") is None:
        return "the partition test needs `ip` (iproute2)"
    probe = f"dfp-probe-{uuid.uuid4().hex[:6]}"
    try:
        _ip("netns", "add", probe)
    except (subprocess.CalledProcessError, OSError) as exc:
        return f"network namespaces cannot be made here: {getattr(exc, 'stderr', '') or exc}".strip()
    subprocess.run(["ip", "netns", "del", probe], check=False, capture_output=True, timeout=20)
    return None


@dataclass
class Net:
    tag: str
    subnet: str  # "10.231.N"
    bridge: str
    hosts: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (namespace, host-side veth)

    @property
    def gateway_ip(self) -> str:
        return f"{self.subnet}.1"  # this machine, on the bridge

    def ip(self, name: str) -> str:
        return f"{self.subnet}.{2 + list(self.hosts).index(name)}"

    def ns(self, name: str) -> str:
        return self.hosts[name][0]

    def cut(self, name: str) -> None:
        """Take the host off the network (its link down: packets go nowhere, connections hang)."""
        _ip("link", "set", self.hosts[name][1], "down")

    def heal(self, name: str) -> None:
        _ip("link", "set", self.hosts[name][1], "up")


def _free_subnet() -> str:
    used = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True, check=True).stdout
    while True:
        subnet = f"10.231.{random.randint(1, 254)}"
        if f" {subnet}." not in used:
            return subnet


@contextmanager
def network(names: list[str]) -> Iterator[Net]:
    tag = uuid.uuid4().hex[:4]
    net = Net(tag, _free_subnet(), f"dfp{tag}br")
    try:
        _ip("link", "add", net.bridge, "type", "bridge")
        _ip("addr", "add", f"{net.gateway_ip}/24", "dev", net.bridge)
        _ip("link", "set", net.bridge, "up")
        for i, name in enumerate(names):
            ns, host_end, ns_end = f"dfp-{tag}-{name}", f"dfp{tag}h{i}", f"dfp{tag}n{i}"
            _ip("netns", "add", ns)
            net.hosts[name] = (ns, host_end)
            _ip("link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            _ip("link", "set", ns_end, "netns", ns)
            _ip("link", "set", host_end, "master", net.bridge, "up")
            _ip("link", "set", "lo", "up", ns=ns)
            _ip("addr", "add", f"{net.ip(name)}/24", "dev", ns_end, ns=ns)
            _ip("link", "set", ns_end, "up", ns=ns)
        yield net
    finally:
        for ns, _ in net.hosts.values():  # deleting a namespace deletes its veth pair
            subprocess.run(["ip", "netns", "del", ns], check=False, capture_output=True, timeout=20)
        subprocess.run(["ip", "link", "del", net.bridge], check=False, capture_output=True, timeout=20)


class Forwarder:
    """Listens on (host, any port) and pipes each connection to 127.0.0.1:target."""

    def __init__(self, host: str, target: int) -> None:
        self.target = target
        self.sock = socket.create_server((host, 0))
        self.port = self.sock.getsockname()[1]
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True, name=f"fwd-{target}")
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=10)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            client.settimeout(None)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()
        for s in self._open:
            s.close()
