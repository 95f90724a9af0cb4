"""A multi-host rig on one Linux machine: network namespaces joined by veth pairs (root only).

Each "host" is a network namespace with its own loopback and one veth link, and every process it
runs gets its own mount namespace with the host's private folders bound over /dev/shm (and its own
/etc/machine-id): processes
of one host share memory as on a real machine, processes of two hosts cannot, so DDS data really
crosses the link. Two hosts are joined by one veth pair; more hosts by a bridge in a namespace of
its own (a switch). Addresses are 10.231.0.x and exist only inside the namespaces made here; the
rig removes everything it made when it closes (namespaces, links, shared-memory folders), and on
start it removes what a killed run left behind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
import os
from pathlib import Path
import secrets
import shutil
import signal
import subprocess
import time
from typing import IO

PREFIX = 'pai_rig_'
SUBNET = '10.231.0'
SHM_ROOT = Path('/dev/shm')
# $0: the host's folder. Its shm/ replaces /dev/shm, its machine-id /etc/machine-id (Fast DDS takes
# participants with the same machine id for the same host, and then filters their locators).
_ENTER_HOST = ('mount --bind "$0/machine-id" /etc/machine-id && mount --bind "$0/shm" /dev/shm && '
               'exec "$@"')


class RigError(RuntimeError):
    """The rig cannot be built on this machine (not root, no netns support, a command failed)."""


def unavailable_reason() -> str:
    """Return why the rig cannot run here, or '' when it can."""
    if os.geteuid() != 0:
        return 'network namespaces need root'
    for tool in ('ip', 'unshare', 'mount'):
        if shutil.which(tool) is None:
            return f'{tool} is not installed (iproute2 / util-linux)'
    probe = f'{PREFIX}probe_{os.getpid()}'
    made = subprocess.run(['ip', 'netns', 'add', probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f'cannot create a network namespace: {made.stderr.strip()}'
    try:
        shared = subprocess.run(['ip', 'netns', 'exec', probe, 'unshare', '-m', '--propagation', 'private',
                                 'sh', '-c', 'mount -t tmpfs tmpfs /mnt'], capture_output=True, text=True)
        if shared.returncode != 0:
            return f'cannot create a mount namespace: {shared.stderr.strip()}'
    finally:
        subprocess.run(['ip', 'netns', 'del', probe], capture_output=True)
    return ''


@dataclass
class Host:
    """One host of the rig: its namespace, link, address and shared-memory folder."""

    name: str
    netns: str
    link: str  # its end of the veth pair
    address: str
    folder: Path  # shm/ (its /dev/shm) and machine-id

    @property
    def shm(self) -> Path:
        """Return the folder its processes see as /dev/shm."""
        return self.folder / 'shm'


class HostProcess:
    """A process on a rig host; output goes to a file."""

    def __init__(self, host: Host, command: Sequence[str], env: Mapping[str, str], log_path: Path,
                 stdin: int | None = subprocess.DEVNULL) -> None:
        self.host = host
        self.log_path = log_path
        self._log: IO[bytes] = open(log_path, 'wb')
        self.proc = subprocess.Popen(
            ['ip', 'netns', 'exec', host.netns, 'unshare', '-m', '--propagation', 'private',
             'sh', '-c', _ENTER_HOST, str(host.folder), *command],
            env=dict(env), stdout=self._log, stderr=subprocess.STDOUT, stdin=stdin, start_new_session=True)

    def output(self) -> str:
        """Return what the process printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors='replace')

    def running(self) -> bool:
        """Return whether the process is still running."""
        return self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> int:
        """SIGINT the process (SIGKILL after `timeout` s); return its exit code."""
        if self.proc.poll() is None:
            _killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if not self._log.closed:
            self._log.close()
        return self.proc.returncode


class Rig:
    """Hosts in network namespaces, joined by a veth pair (two) or a bridge (more); a context manager."""

    def __init__(self, names: Sequence[str], multicast: bool = True, log_dir: Path | None = None) -> None:
        if len(names) < 2 or len(set(names)) != len(names):
            raise ValueError('a rig needs two or more hosts with distinct names')
        self.names = list(names)
        self.multicast = multicast
        self.tag = f'{PREFIX}{os.getpid()}_{time.monotonic_ns() % 100000}'
        self._own_logs = log_dir is None  # removed on close; a folder given by the caller stays
        self.log_dir = Path(log_dir) if log_dir else SHM_ROOT / f'{self.tag}_logs'
        self.hosts: dict[str, Host] = {}
        self.switch = ''
        self.processes: list[HostProcess] = []
        self._made: list[str] = []

    def __enter__(self) -> Rig:
        reason = unavailable_reason()
        if reason:
            raise RigError(reason)
        remove_stale()
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _build(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        pair = len(self.names) == 2
        if not pair:
            self.switch = f'{self.tag}_sw'
            self._netns(self.switch)
            _ip('-n', self.switch, 'link', 'add', 'br0', 'type', 'bridge')
            _ip('-n', self.switch, 'link', 'set', 'br0', 'up')
        for i, name in enumerate(self.names):
            netns = f'{self.tag}_{i}'
            self._netns(netns)
            folder = SHM_ROOT / f'{self.tag}_hosts' / name
            (folder / 'shm').mkdir(parents=True)
            (folder / 'machine-id').write_text(secrets.token_hex(16) + '\n')
            self.hosts[name] = Host(name, netns, f'veth{i}', f'{SUBNET}.{i + 1}', folder)
        if pair:
            a, b = self.hosts.values()
            _ip('link', 'add', a.link, 'netns', a.netns, 'type', 'veth', 'peer', 'name', b.link,
                'netns', b.netns)
        else:
            for i, host in enumerate(self.hosts.values()):
                _ip('link', 'add', host.link, 'netns', host.netns, 'type', 'veth', 'peer', 'name', f'port{i}',
                    'netns', self.switch)
                _ip('-n', self.switch, 'link', 'set', f'port{i}', 'master', 'br0', 'up')
        for host in self.hosts.values():
            _ip('-n', host.netns, 'link', 'set', 'lo', 'up')
            _ip('-n', host.netns, 'addr', 'add', f'{host.address}/24', 'dev', host.link)
            _ip('-n', host.netns, 'link', 'set', host.link, 'up')
            if self.multicast:  # without this route a namespace cannot send multicast at all
                _ip('-n', host.netns, 'route', 'add', '224.0.0.0/4', 'dev', host.link)

    def _netns(self, name: str) -> None:
        _ip('netns', 'add', name)
        self._made.append(name)

    def start(self, host: str, command: Sequence[str], env: Mapping[str, str], name: str = 'process',
              stdin: int | None = subprocess.DEVNULL) -> HostProcess:
        """Start `command` on `host` with `env`; stopped when the rig closes."""
        log = self.log_dir / f'{host}_{name}_{len(self.processes)}.log'
        proc = HostProcess(self.hosts[host], command, env, log, stdin=stdin)
        self.processes.append(proc)
        return proc

    def set_link(self, host: str, up: bool) -> None:
        """Take a host's link down (a cut cable) or up again."""
        h = self.hosts[host]
        _ip('-n', h.netns, 'link', 'set', h.link, 'up' if up else 'down')
        if up and self.multicast:  # link down drops the route with it
            _ip('-n', h.netns, 'route', 'replace', '224.0.0.0/4', 'dev', h.link)

    def close(self) -> None:
        """Stop every process, delete every namespace and folder the rig made (safe to call twice)."""
        for proc in self.processes:
            proc.stop()
        self.processes.clear()
        for netns in reversed(self._made):
            subprocess.run(['ip', 'netns', 'del', netns], capture_output=True)
        self._made.clear()
        shutil.rmtree(SHM_ROOT / f'{self.tag}_hosts', ignore_errors=True)
        if self._own_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)


def remove_stale() -> list[str]:
    """Delete namespaces and folders of rigs whose process is gone; return the namespaces deleted."""
    listed = subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True).stdout.split()
    gone = []
    for netns in (n for n in listed if n.startswith(PREFIX)):
        pid = netns[len(PREFIX):].split('_', 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            subprocess.run(['ip', 'netns', 'del', netns], capture_output=True)
            gone.append(netns)
    for folder in SHM_ROOT.glob(f'{PREFIX}*_hosts'):
        pid = folder.name[len(PREFIX):].split('_', 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return gone


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ip(*args: str) -> None:
    done = subprocess.run(['ip', *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RigError(f'ip {" ".join(args)}: {done.stderr.strip()}')


def _killpg(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass
