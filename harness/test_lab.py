"""Tests of the lab (tools/lablib.py and tools/lab).

They check what the lab promises: two namespaces apart from the host's, the
veth ends with the right MAC, state, MTU, addresses and offloads, no IPv6, a
host network left untouched, and nothing left behind after down(), after the
owner is SIGKILLed, or after `tools/lab down`; and the same lab working for an
unprivileged user through user namespaces (as uid 65534 when run as root).
"""

import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import pytest

TOOLS = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "tools")
TOOLS = os.path.normpath(TOOLS)
sys.path.insert(0, TOOLS)
import lablib  # noqa: E402

PYTHON = "/usr/bin/python3"
CLI = os.path.join(TOOLS, "lab")
NOBODY = "65534"
OFFLOADS = ("tx-checksumming", "tcp-segmentation-offload",
            "generic-segmentation-offload", "generic-receive-offload")
MACS = {"peer": lablib.PEER_MAC, "target": lablib.TARGET_MAC}


# ---------------------------------------------------------------- helpers

def tool(name):
    """Absolute path of a host tool, looking in sbin too."""
    return shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def alive(pid):
    """True if `pid` exists and is not a zombie (a zombie holds no namespace)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def netns_users(inodes):
    """Pids of host processes whose network namespace inode is in `inodes`."""
    users = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino in inodes:
                    users.append(int(entry))
            except OSError:  # gone meanwhile, or not ours to look at
                pass
    return users


def wait_until(check, timeout, interval=0.05):
    """Call check() until it is true or `timeout` s pass (bounded); return its last value."""
    deadline = time.monotonic() + timeout
    for _ in range(int(timeout / interval) + 1):
        value = check()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
    return check()


def leftovers(pids, inodes):
    """Description of the lab processes still alive and namespaces still used, or ""."""
    living = [p for p in pids if alive(p)]
    users = netns_users(set(inodes))
    return f"alive: {living}, netns users: {users}" if living or users else ""


def child_pid(parent):
    """Pid of the first child of `parent`, waiting up to 5 s; None if none came."""
    def first():
        """The first child, or None."""
        try:
            with open(f"/proc/{parent}/task/{parent}/children") as f:
                return int(f.read().split()[0])
        except (FileNotFoundError, IndexError):
            return None
    return wait_until(first, 5, 0.01)


def command_pid(popen, comm):
    """Host pid of the command a lab.popen() runs (nsenter's child) once it
    has exec'd into `comm`."""
    pid = child_pid(popen.pid)
    assert pid, "nsenter started no child"

    def exec_done():
        """True once the child's name is `comm`."""
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() == comm
    assert wait_until(exec_done, 5, 0.01), f"child {pid} never became {comm}"
    return pid


def host_network():
    """The host namespace's links and addresses as `ip -o` prints them."""
    return [subprocess.run([tool("ip"), "-o", what], capture_output=True, text=True,
                           check=True).stdout for what in ("link", "addr")]


def links(lab, side):
    """{ifname: `ip -j addr` entry} inside `side`."""
    out = lab.run(side, ["ip", "-j", "addr"]).stdout
    return {link["ifname"]: link for link in json.loads(out)}


def offloads(lab, side):
    """{feature: state} of the four offloads of the veth end of `side`."""
    features = {}
    for line in lab.run(side, ["ethtool", "-k", lab.ifname(side)]).stdout.splitlines():
        name, _, state = line.partition(":")
        if name in OFFLOADS:
            features[name] = state.strip()
    return features


def cli(*args, env=None, timeout=30):
    """Run tools/lab with `args`; the CompletedProcess, text captured."""
    return subprocess.run([CLI, *args], capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL)


# ---------------------------------------------------------------- tests

@pytest.mark.parametrize("target,peer,addresses", [
    ("ours", "kernel", {"peer": [f"{lablib.PEER_IP}/{lablib.PREFIX}"], "target": []}),
    ("linux", "raw", {"peer": [], "target": [f"{lablib.TARGET_IP}/{lablib.PREFIX}"]}),
])
def test_namespaces_links_and_addresses(target, peer, addresses):
    """Each side is its own netns with lo and one veth end: right MAC, UP,
    MTU 1500, exactly the configured IPv4 address, no IPv6, offloads off."""
    host = os.stat("/proc/self/ns/net").st_ino
    with lablib.Lab(target=target, peer=peer) as lab:
        inodes = {side: lab.netns_inode(side) for side in lablib.SIDES}
        assert host not in inodes.values()
        assert inodes["peer"] != inodes["target"]
        for side in lablib.SIDES:
            ifname = lab.ifname(side)
            found = links(lab, side)
            assert set(found) == {"lo", ifname}
            veth = found[ifname]
            assert veth["address"] == MACS[side]
            assert veth["operstate"] == "UP"
            assert veth["mtu"] == 1500
            inet = [f"{a['local']}/{a['prefixlen']}" for a in veth["addr_info"]
                    if a["family"] == "inet"]
            assert inet == addresses[side]
            assert "UP" in found["lo"]["flags"]
            families = {a["family"] for link in found.values() for a in link["addr_info"]}
            assert "inet6" not in families
            for conf in ("all", "default", ifname):
                path = f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6"
                assert lab.run(side, ["cat", path]).stdout.strip() == "1", path
            assert offloads(lab, side) == {name: "off" for name in OFFLOADS}


def test_host_network_untouched():
    """No link, address or route of the host changes during a lab's whole life,
    not even transiently (watched with `ip monitor`)."""
    before = host_network()
    monitor = subprocess.Popen([tool("ip"), "-o", "monitor", "link", "address", "route"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        time.sleep(0.3)  # let the monitor subscribe
        with lablib.Lab(target="linux", peer="kernel") as lab:
            lab.run("peer", ["ping", "-c", "1", "-W", "2", lablib.TARGET_IP])
            during = host_network()
        time.sleep(0.3)  # let late events arrive
    finally:
        monitor.terminate()
        events = monitor.communicate(timeout=5)[0]
    assert events == ""
    assert during == before
    assert host_network() == before


def test_ping_between_kernels():
    """With target=linux and peer=kernel, the peer pings the target, and the
    target's ICMP counters (lab.snmp) see the echoes."""
    with lablib.Lab(target="linux", peer="kernel") as lab:
        echoes = lab.snmp("target")["Icmp"]["InEchos"]
        result = lab.run("peer", ["ping", "-c", "2", "-i", "0.2", "-W", "2", lablib.TARGET_IP],
                         check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        assert " 2 received" in result.stdout
        assert lab.snmp("target")["Icmp"]["InEchos"] - echoes == 2
        assert lab.snmp("peer")["Icmp"]["InEchoReps"] >= 2


def test_down_leaves_nothing():
    """After down(): holders and inits gone, a `sleep 300` started in the lab
    gone, nobody in the lab's namespaces; a second down() is harmless."""
    lab = lablib.Lab().up()
    try:
        sleeper = lab.popen("target", ["sleep", "300"])
        sleep_pid = command_pid(sleeper, "sleep")
        state = lab.state()
    finally:
        lab.down()
    pids = [*state["holders"], *state["pids"].values(), sleep_pid]
    assert len(state["holders"]) == (3 if lab.userns else 2)
    assert sleeper.wait(timeout=5) != 0
    assert leftovers(pids, state["netns"].values()) == ""
    lab.down()


def test_killing_popen_kills_the_command():
    """Popen.kill() on what lab.popen() returned ends the command itself, not
    just its nsenter."""
    with lablib.Lab() as lab:
        sleeper = lab.popen("peer", ["sleep", "300"])
        sleep_pid = command_pid(sleeper, "sleep")
        sleeper.kill()
        sleeper.wait(timeout=5)
        assert wait_until(lambda: not alive(sleep_pid), 5), f"sleep {sleep_pid} survived"


KILLED_OWNER = """\
import json, sys, time
sys.path.insert(0, sys.argv[1])
import lablib
lab = lablib.Lab().up()
sleeper = lab.popen("target", ["sleep", "300"])
for _ in range(500):
    with open(f"/proc/{sleeper.pid}/task/{sleeper.pid}/children") as f:
        children = [int(p) for p in f.read().split()]
    if children:
        break
    time.sleep(0.01)
state = lab.state()
print(json.dumps({"pids": state["holders"] + list(state["pids"].values())
                          + [sleeper.pid] + children,
                  "inodes": list(state["netns"].values())}), flush=True)
time.sleep(300)
"""


def test_sigkilled_owner_leaves_nothing():
    """SIGKILL the process that made a lab: within 10 s none of the lab's
    processes exist and no process uses its namespaces."""
    owner = subprocess.Popen([PYTHON, "-c", KILLED_OWNER, TOOLS], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(owner.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=15), "the lab owner printed nothing in 15 s"
        line = owner.stdout.readline()
        assert line, owner.stderr.read()
        report = json.loads(line)
        assert len(report["pids"]) >= 6 and len(report["inodes"]) == 2
        assert leftovers(report["pids"], report["inodes"]) != ""
    finally:
        owner.kill()
        owner.wait(timeout=5)
    started = time.monotonic()
    remaining = wait_until(lambda: not leftovers(report["pids"], report["inodes"]), 10)
    assert remaining, leftovers(report["pids"], report["inodes"])
    print(f"everything gone {time.monotonic() - started:.2f} s after SIGKILL")


def test_cli_lifecycle(tmp_path):
    """tools/lab up / target CMD / status / down, exit codes, TCPIP_LAB_NAME,
    refusal of a second lab of the same name, cleanup of a lab whose daemon was
    SIGKILLed, and nothing of it left at the end."""
    name = f"t-{secrets.token_hex(4)}"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    state_file = tmp_path / "tcpip-lab" / f"{name}.json"
    try:
        up = cli("up", "--name", name, env=env)
        assert up.returncode == 0, up.stderr
        first = json.loads(state_file.read_text())
        assert (tmp_path / "tcpip-lab").stat().st_mode & 0o777 == 0o700

        link = cli("--name", name, "target", "ip", "-br", "link", env=env)
        assert link.returncode == 0 and "target0" in link.stdout, link
        assert cli("--name", name, "peer", "sh", "-c", "exit 3", env=env).returncode == 3
        status = cli("status", env=dict(env, TCPIP_LAB_NAME=name))
        assert status.returncode == 0, status.stderr
        assert lablib.PEER_MAC in status.stdout and lablib.TARGET_MAC in status.stdout
        assert f"{lablib.PEER_IP}/{lablib.PREFIX}" in status.stdout

        again = cli("up", "--name", name, env=env)
        assert again.returncode == 1 and "already up" in again.stderr

        os.kill(first["daemon"], signal.SIGKILL)
        first_pids = [first["daemon"], *first["holders"], *first["pids"].values()]
        assert wait_until(lambda: not leftovers(first_pids, first["netns"].values()), 10)
        up = cli("up", "--name", name, "--target", "linux", env=env)
        assert up.returncode == 0, up.stderr
        state = json.loads(state_file.read_text())
        assert state["daemon"] != first["daemon"]
    finally:
        down = cli("--name", name, "down", env=env)
    assert down.returncode == 0, down.stderr
    assert not state_file.exists()
    pids = [state["daemon"], *state["holders"], *state["pids"].values()]
    assert leftovers(pids, state["netns"].values()) == ""
    quiet = cli("--name", name, "down", env=env)
    assert quiet.returncode == 0 and f"no lab '{name}' is up" in quiet.stderr
    assert cli("--name", name, "peer", "true", env=env).returncode == 1
    assert cli("bogus", env=env).returncode == 2
    assert cli("--name", name, "peer", env=env).returncode == 2


def test_wait_capture(tmp_path):
    """`tools/lab wait-capture FILE` returns once a background tshark is
    capturing: the one ping sent right after it is in the file (five times
    over, so a lucky start cannot pass it); a file never started fails with
    exit 1 within its timeout."""
    if not tool("tshark"):
        pytest.skip("tshark is not installed (apt-get install tshark)")
    name = f"c-{secrets.token_hex(4)}"
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))
    try:
        assert cli("up", "--name", name, "--target", "linux", env=env).returncode == 0
        for round_ in range(5):
            pcap = tmp_path / f"{round_}.pcap"
            tshark = subprocess.Popen(
                [CLI, "--name", name, "peer", "tshark", "-q", "-i", "peer0", "-c", "1",
                 "-a", "duration:20", "-f", "icmp", "-w", str(pcap)],
                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait = cli("wait-capture", str(pcap), env=env)
                assert wait.returncode == 0, wait.stderr
                ping = cli("--name", name, "peer", "ping", "-c", "1", "-W", "2",
                           lablib.TARGET_IP, env=env)
                assert ping.returncode == 0, ping.stdout
                tshark.wait(timeout=30)
                read = subprocess.run(["tshark", "-r", str(pcap), "-T", "fields",
                                       "-e", "icmp.type"], capture_output=True, text=True,
                                      timeout=60, check=False)
                assert read.stdout.split()[:1] == ["8"], (round_, read.stdout, read.stderr)
            finally:
                tshark.kill()
                tshark.wait()
    finally:
        cli("--name", name, "down", env=env)
    never = cli("wait-capture", str(tmp_path / "never.pcap"), "--timeout", "0.5", env=env)
    assert never.returncode == 1 and "no capture header" in never.stderr


UNPRIVILEGED = """\
import json, sys
sys.path.insert(0, sys.argv[1])
import lablib
lab = lablib.Lab(target="linux", peer="kernel").up()
try:
    ping = lab.run("peer", ["ping", "-c", "2", "-i", "0.2", "-W", "2", lablib.TARGET_IP],
                   check=False)
    state = lab.state()
finally:
    lab.down()
print(json.dumps({"userns": lab.userns, "ping": ping.returncode, "out": ping.stdout,
                  "pids": state["holders"] + list(state["pids"].values()),
                  "inodes": list(state["netns"].values())}))
"""


def unprivileged(argv, env, timeout=60):
    """Run `argv` without privileges: as uid/gid 65534 with no groups if we are
    root, else as ourselves. The CompletedProcess."""
    if os.geteuid() == 0:
        argv = [tool("setpriv"), f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--", *argv]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, cwd="/")


@pytest.fixture
def unprivileged_dir():
    """A fresh world-readable directory with copies of the lab tools, and in it
    a 0700 state directory "runtime" owned by the unprivileged user; removed afterwards."""
    path = tempfile.mkdtemp(prefix="lab-unpriv-")
    try:
        os.chmod(path, 0o755)
        for name in ("lablib.py", "labaddr.py", "lab"):
            shutil.copy(os.path.join(TOOLS, name), path)
        runtime = os.path.join(path, "runtime")
        os.mkdir(runtime, 0o700)
        if os.geteuid() == 0:
            os.chown(runtime, int(NOBODY), int(NOBODY))
        yield path
    finally:
        shutil.rmtree(path)


def test_unprivileged_user(unprivileged_dir):
    """The lab works without privileges through a user namespace (library and
    CLI: up, ping from the peer, down, nothing left), with a PATH lacking sbin
    and no HOME: as uid 65534 when the tests run as root, else as ourselves."""
    runtime = os.path.join(unprivileged_dir, "runtime")
    env = {"PATH": "/usr/bin:/bin", "XDG_RUNTIME_DIR": runtime}
    probe = unprivileged(["unshare", "--user", "--map-root-user", "true"], env)
    if probe.returncode:
        reason = (f"UNPRIVILEGED MODE UNTESTED: uid {os.geteuid() or NOBODY} may not create "
                  f"user namespaces here ({probe.stderr.strip()})")
        print(reason, file=sys.stderr)
        pytest.skip(reason)

    run = unprivileged([PYTHON, "-c", UNPRIVILEGED, unprivileged_dir], env)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["userns"] is True
    assert report["ping"] == 0, report["out"]
    assert leftovers(report["pids"], report["inodes"]) == ""

    lab_cli = os.path.join(unprivileged_dir, "lab")
    name = f"u-{secrets.token_hex(4)}"
    try:
        up = unprivileged([lab_cli, "--name", name, "up", "--target", "linux"], env)
        assert up.returncode == 0, up.stderr
        ping = unprivileged([lab_cli, "--name", name, "peer", "ping", "-c", "1", "-W", "2",
                             lablib.TARGET_IP], env)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        link = unprivileged([lab_cli, "--name", name, "target", "ip", "-br", "link"], env)
        assert "target0" in link.stdout, link.stderr
    finally:
        down = unprivileged([lab_cli, "--name", name, "down"], env)
    assert down.returncode == 0, down.stderr
    assert os.listdir(runtime) == ["tcpip-lab"]
    assert os.listdir(os.path.join(runtime, "tcpip-lab")) == []


def test_wire_lab_forwards_and_leaves_nothing():
    """WireLab: three namespaces apart from the host's, the wire's two ends
    joined by its nftables rules; at 0% loss a ping crosses and the wire
    namespace holds no address; set_loss() puts the drop rule in both chains;
    after down() nothing of it is left and the host network is as before."""
    before = host_network()
    lab = lablib.WireLab(target="linux", peer="kernel", loss_pct=0).up()
    try:
        state = lab.state()
        assert os.stat("/proc/self/ns/net").st_ino not in state["netns"].values()
        assert len(set(state["netns"].values())) == 3
        assert set(links(lab, "wire")) == {"lo", "wire0", "wire1"}
        assert not [a for link in links(lab, "wire").values() for a in link["addr_info"]
                    if link["ifname"] != "lo"]
        ping = lab.run("peer", ["ping", "-c", "2", "-i", "0.2", "-W", "2", lablib.TARGET_IP],
                       check=False)
        assert ping.returncode == 0, ping.stdout + ping.stderr
        assert "drop" not in lab.wire_rules()
        lab.set_loss(5)
        assert lab.wire_rules().count("numgen random mod 100 < 5 drop") == 2
    finally:
        lab.down()
    pids = [*state["holders"], *state["pids"].values()]
    assert leftovers(pids, state["netns"].values()) == ""
    assert host_network() == before
