"""A throwaway single-node SLURM cluster on 127.0.0.1 for the `slurm` tests.

Starts its own munged, slurmctld and slurmd (foreground processes, tracked by PID) with all state in a
temporary directory and free ports, so it never touches a system SLURM or munge; ``stop`` kills only
those PIDs and removes the directory.  Client commands find the cluster through ``SLURM_CONF``.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scancel", "sinfo")
CPUS = 4  # declared (config_overrides): lets a 2-core machine run a few one-core jobs at once


def missing_reason() -> str | None:
    """Why a cluster cannot start here (None: it can)."""
    if os.geteuid() != 0:
        return "slurm tests need root (SlurmUser=root)"
    missing = [d for d in DAEMONS if shutil.which(d) is None and not Path("/usr/sbin", d).exists()]
    if missing:
        return f"slurm-wlm/munge not installed ({', '.join(missing)} missing; apt-get install slurm-wlm munge)"
    return None


def _free_ports(n: int) -> list[int]:
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _exe(name: str) -> str:
    return shutil.which(name) or str(Path("/usr/sbin", name))


SLURM_CONF = """\
ClusterName=enstest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={root}/munge.sock
CredType=cred/munge
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1
KillWait=5
InactiveLimit=0
MinJobAge=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=8000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class SlurmCluster:
    root: Path
    env: dict[str, str]
    pids: dict[str, int] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)

    def command(self, *args: str, check: bool = True, timeout: float = 30) -> str:
        res = subprocess.run(list(args), env=self.env, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {res.stderr.strip()}")
        return res.stdout

    def job_ids(self) -> list[str]:
        """Ids of this cluster's pending or running jobs."""
        out = self.command("squeue", "-h", "-o", "%i")
        return [line.strip() for line in out.splitlines() if line.strip()]

    def running_job_ids(self) -> list[str]:
        out = self.command("squeue", "-h", "-t", "R", "-o", "%i")
        return [line.strip() for line in out.splitlines() if line.strip()]

    def wait_no_jobs(self, timeout: float = 60) -> bool:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.job_ids():
                return True
            time.sleep(0.5)
        return False

    def log_tail(self) -> str:
        parts = []
        for name in ("slurmctld.log", "slurmd.log", "munged.log"):
            path = self.root / name
            if path.exists():
                parts.append(f"--- {name}\n" + "\n".join(path.read_text(errors="replace").splitlines()[-15:]))
        return "\n".join(parts)

    def _leftover_pids(self) -> list[int]:
        """Processes slurmd spawned for our jobs (job step daemons): they carry this cluster's SLURM_CONF."""
        marker = f"SLURM_CONF={self.env['SLURM_CONF']}".encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
        return found

    def stop(self) -> None:
        """Cancel remaining jobs, then stop the daemons this cluster started (by PID), and clean up."""
        if self.pids.get("slurmctld"):
            try:
                self.command("scancel", "--user=root", check=False, timeout=10)
                self.wait_no_jobs(timeout=20)
            except (subprocess.SubprocessError, OSError):
                pass
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for pid in self._leftover_pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(timeout: float = 60) -> SlurmCluster:
    """Start munged, slurmctld and slurmd; return once the node accepts jobs (RuntimeError otherwise)."""
    root = Path(tempfile.mkdtemp(prefix="enstest-slurm-"))
    os.chmod(root, 0o700)
    for sub in ("state", "spool"):
        (root / sub).mkdir()
    key = root / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chmod(key, 0o400)
    ctld_port, slurmd_port = _free_ports(2)
    conf = root / "slurm.conf"
    conf.write_text(SLURM_CONF.format(root=root, ctld_port=ctld_port, slurmd_port=slurmd_port, cpus=CPUS))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    cluster = SlurmCluster(root, env)

    def launch(name, args):
        log = open(root / f"{name}.out", "wb")
        proc = subprocess.Popen([_exe(name), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        cluster.procs.append(proc)
        cluster.pids[name] = proc.pid
        return proc

    try:
        launch("munged", ["-F", "--force", f"--socket={root}/munge.sock", f"--key-file={key}",
                          f"--pid-file={root}/munged.pid", f"--log-file={root}/munged.log",
                          f"--seed-file={root}/munged.seed"])
        _wait(lambda: (root / "munge.sock").exists(), 10, "munged did not create its socket", cluster)
        launch("slurmctld", ["-D", "-i", "-f", str(conf)])
        launch("slurmd", ["-D", "-f", str(conf), "-N", "localhost"])

        def node_idle():
            try:
                out = cluster.command("sinfo", "-h", "-N", "-o", "%T", check=False, timeout=5)
            except subprocess.SubprocessError:
                return False
            return out.strip().startswith("idle")

        _wait(node_idle, timeout, "the SLURM node did not become idle", cluster)
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _wait(predicate, timeout, what, cluster):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for proc in cluster.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"{Path(proc.args[0]).name} exited ({proc.returncode}):\n{cluster.log_tail()}")
        if predicate():
            return
        time.sleep(0.3)
    raise RuntimeError(f"{what} within {timeout} s:\n{cluster.log_tail()}")
