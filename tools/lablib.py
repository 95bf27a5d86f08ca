"""The test lab: two Linux network namespaces joined by a veth pair.

    "peer" namespace                        "target" namespace
    peer0   02:00:00:00:00:01   <- veth ->  target0 02:00:00:00:00:02
    192.0.2.1/24 if peer="kernel"           192.0.2.2/24 if target="linux"
    no address   if peer="raw"              no address   if target="ours"

Addresses come only from 192.0.2.0/24 (TEST-NET-1, named in labaddr.py). Each side is a new
network namespace and a new pid namespace, with IPv6 disabled before any link
goes up (so no IPv6 frame is ever sent), checksum/TSO/GSO/GRO offloads off on
the veth (frames on the wire are the frames a stack built), lo up and MTU 1500.
Nothing is ever added to the host's own network namespace: the veth is created
inside the peer namespace with its other end created directly in the target.

WireLab is the same lab with a third namespace, "wire", between the two,
whose nftables rules forward every frame but a chosen percent each way (for
loss figures; see its docstring).  Lab(offloads="on") leaves the veth's
default offloads on, for a speed figure beside the usual one.

Lifetime. Each side is held by
`unshare --net --pid --mount --fork --kill-child --mount-proc`
whose child, pid 1 of the namespace, is a small reaper that exits by itself
after `ttl` seconds. The holders are started with PR_SET_PDEATHSIG=SIGKILL, so
when the Python process that made the lab dies, even by SIGKILL, the kernel
kills the holders, then each namespace's pid 1, then every process in those
pid namespaces, and frees the namespaces and the veth. Commands are started
with `nsenter -n -p`, so they live in the lab's pid namespace and die with it.

Without root, the whole lab lives in a user namespace of its own
(`unshare --user --map-root-user`), which needs unprivileged user namespaces.

Limits:
- PR_SET_PDEATHSIG fires when the *thread* that started a process exits: make
  labs and start commands from a thread that outlives them (normally the main
  thread).
- Net, pid and mount are separate: each side's mount namespace is a private
  copy of the host's, with its own /proc for its pid namespace (so pids and
  /proc/self agree, as LeakSanitizer needs).  The filesystem is shared;
  /sys/class/net still shows the host's interfaces, so look at a side's links
  with `ip` run inside it.
- A process that a command leaves behind in the background lives until the
  lab goes down, not until its nsenter exits.
- Linux only; needs util-linux (unshare, nsenter, setpriv), iproute2, ethtool
  and /usr/bin/python3; WireLab needs nftables too.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time

from labaddr import PEER_IP, PEER_MAC, PREFIX, TARGET_IP, TARGET_MAC

MTU = 1500
SIDES = ("peer", "target")

_OFFLOADS = ("tx-checksumming", "tcp-segmentation-offload",
             "generic-segmentation-offload", "generic-receive-offload")
_PYTHON = "/usr/bin/python3"
_EXTRA_PATH = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")
_PACKAGES = {"unshare": "util-linux", "nsenter": "util-linux",
             "setpriv": "util-linux", "ip": "iproute2", "ethtool": "ethtool",
             "sh": "dash", "nft": "nftables", "cat": "coreutils"}
_PR_SET_PDEATHSIG = 1
_START_TIMEOUT = 5.0   # seconds for a holder to show its namespace's pid 1
_STEP_TIMEOUT = 10.0   # seconds for one setup command
_DOWN_TIMEOUT = 5.0    # seconds for down() to see every holder gone

# pid 1 of each namespace: reap orphans until the TTL (argv[1], seconds) ends.
_INIT_SCRIPT = """\
import os, sys, time
deadline = time.monotonic() + float(sys.argv[1])
while time.monotonic() < deadline:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
    time.sleep(0.2)
"""

_libc = ctypes.CDLL(None, use_errno=True)


class LabUnavailable(Exception):
    """This machine or user cannot host a lab; the message says why and what to do."""


class CommandFailed(subprocess.CalledProcessError):
    """A command run in one side of the lab exited non-zero."""

    def __init__(self, side, argv, result):
        """Record the side, the caller's argv and the CompletedProcess `result`."""
        super().__init__(result.returncode, result.args, result.stdout, result.stderr)
        self.side = side
        self.argv = argv

    def __str__(self):
        """Say which command failed where, with the end of its stderr."""
        stderr = self.stderr or ""
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        return (f"{' '.join(map(str, self.argv))!r} in {self.side} exited "
                f"{self.returncode}: {stderr.strip()[-1000:]}")


def pid_alive(pid):
    """True if process `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(check, timeout, interval=0.01):
    """Call check() until it returns a true value or `timeout` seconds pass
    (at most timeout/interval + 1 calls); return its last value."""
    deadline = time.monotonic() + timeout
    value = None
    for _ in range(int(timeout / interval) + 1):
        value = check()
        if value or time.monotonic() >= deadline:
            break
        time.sleep(interval)
    return value


def _search_path():
    """The caller's PATH plus the sbin/bin directories (a user's PATH lacks sbin)."""
    return os.pathsep.join([os.environ.get("PATH", ""), *_EXTRA_PATH])


def _tool(name):
    """Absolute path of tool `name`; LabUnavailable saying what to install if absent."""
    found = shutil.which(name, path=_search_path())
    if not found:
        raise LabUnavailable(f"'{name}' not found in PATH or {':'.join(_EXTRA_PATH)}; "
                             f"install it (Debian package {_PACKAGES.get(name, name)})")
    return found


def _resolve(argv):
    """`argv` with argv[0] made absolute when found on the search path, so that
    sbin tools work for users whose PATH lacks sbin."""
    if isinstance(argv, (str, bytes)) or not argv:
        raise TypeError("argv must be a non-empty list of arguments")
    argv = [str(a) for a in argv]
    if "/" not in argv[0]:
        argv[0] = shutil.which(argv[0], path=_search_path()) or argv[0]
    return argv


def _die_with_parent(user_preexec=None):
    """A preexec_fn that sets PR_SET_PDEATHSIG=SIGKILL in the child (so it dies
    with the thread that starts it), then runs `user_preexec` if given."""
    parent = os.getpid()

    def preexec():
        """Runs in the child between fork and exec."""
        if _libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            os._exit(126)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(126)
        if user_preexec:
            user_preexec()
    return preexec


def _children(pid):
    """Pids of the children of process `pid` (main thread), [] if none or gone."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (FileNotFoundError, ProcessLookupError):
        return []


def _argv0(pid):
    """argv[0] of process `pid`, "" if it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0", 1)[0].decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _read_sysctl(path):
    """Content of sysctl file `path` stripped, or None if it does not exist."""
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


def _userns_diagnosis():
    """Why this machine probably refuses unprivileged user namespaces, and the fix."""
    knobs = (("/proc/sys/kernel/unprivileged_userns_clone", "0",
              "sysctl -w kernel.unprivileged_userns_clone=1"),
             ("/proc/sys/user/max_user_namespaces", "0",
              "sysctl -w user.max_user_namespaces=15000"),
             ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
              "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"))
    for path, bad, fix in knobs:
        if _read_sysctl(path) == bad:
            return f"{path} is {bad}; as root, run `{fix}`, or run the lab as root"
    return ("no known sysctl forbids them, so a seccomp filter or container "
            "runtime probably does; run the lab as root")


class _Holder:
    """One namespace holder: its Popen, its stderr file and the host pid of its child."""

    def __init__(self, name, proc, errors):
        """`name` is "user", "peer" or "target"; `errors` is the holder's stderr file."""
        self.name = name
        self.proc = proc
        self.errors = errors
        self.init = None

    def stderr(self):
        """What the holder wrote to stderr so far."""
        self.errors.seek(0)
        return self.errors.read().decode(errors="replace").strip()


class Lab:
    """A lab (see the module docstring). Use `with Lab(...) as lab:` or up()/down().

    pids maps "peer" and "target" to the host pid of each namespace's pid 1
    while the lab is up; userns tells whether it lives in its own user namespace.
    """

    sides = SIDES                     # the namespaces, in the order they are made
    links = {"peer": ("peer0",), "target": ("target0",)}   # veth ends in each side

    def __init__(self, target="ours", peer="kernel", ttl=3600, offloads="off"):
        """target: "ours" (no address on target0) or "linux" (192.0.2.2/24);
        peer: "kernel" (192.0.2.1/24 on peer0) or "raw" (no address);
        ttl: seconds after which the namespaces end by themselves;
        offloads: "off" (every lab veth, checked) or "on" (the veth's own
        defaults, left alone: for a speed figure beside the "off" one only,
        since our stack then meets partial checksums and 64 KB frames)."""
        if target not in ("ours", "linux"):
            raise ValueError(f"target must be 'ours' or 'linux', not {target!r}")
        if peer not in ("kernel", "raw"):
            raise ValueError(f"peer must be 'kernel' or 'raw', not {peer!r}")
        if not 0 < ttl < float("inf"):
            raise ValueError(f"ttl must be a positive finite number of seconds, not {ttl!r}")
        if offloads not in ("off", "on"):
            raise ValueError(f"offloads must be 'off' or 'on', not {offloads!r}")
        self.offloads = offloads
        self.target = target
        self.peer = peer
        self.ttl = ttl
        self.userns = os.geteuid() != 0
        self.pids = {}
        self._holders = []

    @classmethod
    def attach(cls, state):
        """A Lab object for a lab described by `state` (from state()) that another
        process owns: it can run commands there; its down() ends nothing."""
        lab = cls(state["target"], state["peer"], state["ttl"])
        lab.userns = state["userns"]
        lab.pids = {side: int(state["pids"][side]) for side in lab.sides}
        return lab

    def state(self):
        """A JSON-able description of this lab, enough for attach()."""
        return {"target": self.target, "peer": self.peer, "ttl": self.ttl,
                "userns": self.userns, "uid": os.geteuid(), "pids": dict(self.pids),
                "holders": [h.proc.pid for h in self._holders],
                "netns": {side: self.netns_inode(side) for side in self.pids}}

    def __enter__(self):
        """up() the lab and return it."""
        return self.up()

    def __exit__(self, *exc):
        """down() the lab."""
        self.down()

    def up(self):
        """Create and configure both namespaces and the veth; return self.
        On any failure, tear down whatever was made and re-raise."""
        if self.pids:
            raise RuntimeError("this lab is already up")
        try:
            self._start_namespaces()
            self._configure()
        except BaseException:
            self.down()
            raise
        return self

    def down(self):
        """Kill the namespaces' pid 1 and the holders and wait (bounded, ~5 s) until
        they are gone, which ends every process of the lab and frees the veth.
        Idempotent. RuntimeError if some holder process is still alive after that."""
        holders, self._holders, self.pids = self._holders, [], {}
        for holder in holders:
            if holder.proc.poll() is None and holder.init:
                _kill(holder.init)
        deadline = time.monotonic() + _DOWN_TIMEOUT
        for holder in holders:
            _reap(holder.proc, max(0.0, deadline - time.monotonic()))
            holder.errors.close()
        pids = [p for h in holders for p in (h.proc.pid, h.init) if p]
        _wait(lambda: not any(map(pid_alive, pids)), 1.0)
        survivors = [p for p in pids if pid_alive(p)]
        if survivors:
            raise RuntimeError(f"lab processes {survivors} still alive after down()")

    def netns_inode(self, side):
        """Inode number of the network namespace of `side`."""
        return os.stat(f"/proc/{self._pid(side)}/ns/net").st_ino

    def ifname(self, side):
        """Name of the one veth end in `side`: "peer0" or "target0"."""
        self._check_side(side)
        if len(self.links[side]) != 1:
            raise ValueError(f"{side} has {len(self.links[side])} veth ends: {self.links[side]}")
        return self.links[side][0]

    def cmd(self, side, argv, pdeathsig=True, cwd=None):
        """The argv that runs `argv` inside `side`: nsenter into its net, pid and
        mount namespaces (working directory: cwd, default ours), then (unless
        pdeathsig=False) `setpriv --pdeathsig KILL`, so that the command dies
        when its nsenter dies (e.g. Popen.kill()).
        Start it with PR_SET_PDEATHSIG too (popen() does) so it dies with you."""
        shim = [_tool("setpriv"), "--pdeathsig", "KILL", "--"] if pdeathsig else []
        return self._enter(side, cwd=cwd) + shim + _resolve(argv)

    def popen(self, side, argv, **kw):
        """subprocess.Popen(cmd(side, argv), **kw), with PR_SET_PDEATHSIG=SIGKILL
        on the nsenter process (a preexec_fn in kw runs after that)."""
        kw["preexec_fn"] = _die_with_parent(kw.get("preexec_fn"))
        return subprocess.Popen(self.cmd(side, argv, cwd=kw.get("cwd")), **kw)

    def run(self, side, argv, timeout=30, check=True, **kw):
        """Run `argv` inside `side` to completion like subprocess.run, output
        captured as text unless kw says otherwise. CommandFailed (a
        CalledProcessError) if check and it exits non-zero; TimeoutExpired
        (the command killed) after `timeout` seconds."""
        kw.setdefault("text", True)
        if not {"stdout", "stderr", "capture_output"} & kw.keys():
            kw["capture_output"] = True
        kw["preexec_fn"] = _die_with_parent(kw.get("preexec_fn"))
        result = subprocess.run(self.cmd(side, argv, cwd=kw.get("cwd")), timeout=timeout, **kw)
        if check and result.returncode:
            raise CommandFailed(side, argv, result)
        return result

    def snmp(self, side):
        """The IP/ICMP/TCP/UDP counters of `side` from /proc/<pid>/net/snmp:
        {"Ip": {"InReceives": int, ...}, "Icmp": {...}, "Tcp": {...}, ...}."""
        with open(f"/proc/{self._pid(side)}/net/snmp") as f:
            lines = f.read().splitlines()
        counters = {}
        for header, values in zip(lines[0::2], lines[1::2]):
            group, names = header.split(":", 1)
            counters[group] = dict(zip(names.split(), map(int, values.split(":", 1)[1].split())))
        return counters

    def _pid(self, side):
        """Host pid of the pid 1 of `side`; errors if the side is unknown or the lab down."""
        self._check_side(side)
        if side not in self.pids:
            raise RuntimeError("the lab is not up")
        return self.pids[side]

    def _enter(self, side, pidns=True, cwd=None):
        """nsenter argv prefix entering the net namespace of `side` and, if
        pidns, its pid namespace and the mount namespace whose /proc shows that
        pid namespace (so a process's pid and /proc/self agree: LeakSanitizer,
        ps and pgrep rely on it).  Entering a mount namespace resets the working
        directory, so nsenter is told to keep cwd (default: ours)."""
        argv = [_tool("nsenter"), "-t", str(self._pid(side)), "-n"]
        if pidns:
            argv += ["-p", "-m", f"--wd={os.path.abspath(cwd or os.getcwd())}"]
        if self.userns:
            argv += ["-U", "--preserve-credentials"]
        return argv + ["--"]

    def _start_namespaces(self):
        """Start the holders (user namespace first when unprivileged) and fill pids."""
        into_userns = []
        if self.userns:
            userns_init = self._start_holder(
                "user", [_tool("unshare"), "--user", "--map-root-user", "--fork", "--kill-child"])
            into_userns = [_tool("nsenter"), "-t", str(userns_init), "-U",
                           "--preserve-credentials", "--"]
        for side in self.sides:
            self.pids[side] = self._start_holder(
                side, into_userns + [_tool("unshare"), "--net", "--pid", "--mount", "--fork",
                                     "--kill-child", "--mount-proc"])

    def _start_holder(self, name, argv):
        """Start holder `argv` + the init script, with PDEATHSIG, in a session of
        its own (terminal signals go to the lab's owner, not to the lab); return
        the host pid of its child, the namespace's pid 1."""
        holder = _Holder(name, None, tempfile.TemporaryFile())
        holder.proc = subprocess.Popen(
            argv + [_PYTHON, "-I", "-S", "-c", _INIT_SCRIPT, str(self.ttl)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=holder.errors,
            cwd="/", start_new_session=True, preexec_fn=_die_with_parent())
        self._holders.append(holder)

        def init():
            """The holder's child once it runs the init script (so unshare has
            finished, uid_map included), or None; LabUnavailable if the holder died."""
            if holder.proc.poll() is not None:
                raise LabUnavailable(self._holder_failure(holder))
            return next((p for p in _children(holder.proc.pid) if _argv0(p) == _PYTHON), None)
        holder.init = _wait(init, _START_TIMEOUT, 0.005)
        if not holder.init:
            raise LabUnavailable(f"the {name} namespace holder started no init within "
                                 f"{_START_TIMEOUT} s (is CONFIG_PROC_CHILDREN missing?)")
        return holder.init

    def _holder_failure(self, holder):
        """Message for a holder that exited before starting its child."""
        what = (f"cannot create a user namespace as uid {os.geteuid()}"
                if holder.name == "user" else f"cannot create the {holder.name} namespaces")
        message = f"{what}: {holder.stderr() or f'exit status {holder.proc.returncode}'}"
        if holder.name == "user":
            return (f"{message}; unprivileged user namespaces are not allowed: "
                    f"{_userns_diagnosis()}")
        if not self.userns:
            return f"{message} (root without CAP_SYS_ADMIN, e.g. in a container?)"
        return message

    def _configure(self):
        """IPv6 off, lo up, the veths (_make_links), then per end: IPv6 off,
        offloads off, address; then _before_up(); then every end up.
        Order matters: nothing goes up before IPv6 is off."""
        for side in self.sides:
            self._disable_ipv6(side, "all", "default")
            self._setup(side, [_tool("ip"), "link", "set", "lo", "up"])
        if self.target == "linux":
            self._no_metrics_save()
        self._make_links()
        for side in self.sides:
            for ifname in self.links[side]:
                self._disable_ipv6(side, ifname)
                if self.offloads == "off":
                    self._offloads_off(side, ifname)
        for side in ("peer", "target"):
            if self._address(side):
                self._setup(side, [_tool("ip"), "addr", "add", f"{self._address(side)}/{PREFIX}",
                                   "dev", self.links[side][0]])
        self._before_up()
        for side in self.sides:
            for ifname in self.links[side]:
                self._setup(side, [_tool("ip"), "link", "set", ifname, "up"])
        for side in self.sides:
            for ifname in self.links[side]:
                self._wait_until_up(side, ifname)

    def _make_links(self):
        """The one veth pair: peer0 in peer, its other end target0 made directly in
        target (so it never exists in the host's namespace)."""
        self._veth("peer", "peer0", PEER_MAC, "target", "target0", TARGET_MAC)

    def _veth(self, side, ifname, mac, other_side, other_ifname, other_mac):
        """A veth pair made inside `side`: `ifname` there, `other_ifname` created
        directly in `other_side`, both with fixed MACs and MTU 1500."""
        self._setup(side, [
            _tool("ip"), "link", "add", ifname, "address", mac, "mtu", str(MTU),
            "type", "veth", "peer", "name", other_ifname, "address", other_mac,
            "mtu", str(MTU), "netns", str(self.pids[other_side])], pidns=False)

    def _before_up(self):
        """Hook for subclasses: runs once every end is configured, before any is up."""

    def _check_side(self, side):
        """ValueError unless `side` is one of this lab's sides."""
        if side not in self.sides:
            raise ValueError(f"side must be one of {', '.join(map(repr, self.sides))}, "
                             f"not {side!r}")

    def _wait_until_up(self, side, ifname):
        """Wait (bounded) until veth end `ifname` of `side` has carrier: operstate UP."""
        show = [_tool("ip"), "-o", "link", "show", "dev", ifname]
        if not _wait(lambda: " state UP " in self._setup(side, show).stdout, _START_TIMEOUT):
            raise LabUnavailable(f"{ifname} did not reach state UP "
                                 f"within {_START_TIMEOUT} s")

    def _address(self, side):
        """The kernel's IPv4 address on the veth end of `side`, or None."""
        if side == "peer":
            return PEER_IP if self.peer == "kernel" else None
        return TARGET_IP if self.target == "linux" else None

    def _setup(self, side, argv, pidns=True, check=True, stdin_text=None):
        """Run a setup command in `side` (in its pid namespace unless pidns=False,
        where host pids make sense), fed `stdin_text` if given; CommandFailed if
        check and it fails."""
        stdin = {"input": stdin_text} if stdin_text is not None else {"stdin": subprocess.DEVNULL}
        result = subprocess.run(self._enter(side, pidns) + argv, capture_output=True, text=True,
                                timeout=_STEP_TIMEOUT, preexec_fn=_die_with_parent(), **stdin)
        if check and result.returncode:
            raise CommandFailed(side, argv, result)
        return result

    def _disable_ipv6(self, side, *confs):
        """Write 1 to /proc/sys/net/ipv6/conf/<conf>/disable_ipv6 inside `side`."""
        paths = [f"/proc/sys/net/ipv6/conf/{conf}/disable_ipv6" for conf in confs]
        self._setup(side, [_tool("sh"), "-c", 'for f; do echo 1 > "$f" || exit 1; done',
                           "sh", *paths])

    def _no_metrics_save(self):
        """The target's kernel keeps no per-destination metrics (tcp_metrics:
        ssthresh, RTT, reordering) from one connection for the next to the same
        address: every connection of a test starts afresh, whatever the test
        before it lost.  net.ipv4.tcp_no_metrics_save is per network namespace;
        it is written here, inside the target, and read back (the host's own
        value is never touched)."""
        path = "/proc/sys/net/ipv4/tcp_no_metrics_save"
        self._setup("target", [_tool("sh"), "-c", 'echo 1 > "$1"', "sh", path])
        value = self._setup("target", [_tool("cat"), path]).stdout.strip()
        if value != "1":
            raise LabUnavailable(f"{path} reads {value!r} in the target after writing 1")

    def _offloads_off(self, side, ifname):
        """Turn checksum/TSO/GSO/GRO offloads off on veth end `ifname` of `side`,
        then check with `ethtool -k` that they are off (fixed-off ones are fine)."""
        ethtool = _tool("ethtool")
        argv = [ethtool, "-K", ifname, "tx", "off", "tso", "off", "gso", "off", "gro", "off"]
        result = self._setup(side, argv, check=False)
        if result.returncode and "could not change" not in result.stderr.lower():
            raise CommandFailed(side, argv, result)
        features = parse_ethtool_features(self._setup(side, [ethtool, "-k", ifname]).stdout)
        still_on = [f for f in _OFFLOADS if not features.get(f, "").startswith("off")]
        if still_on:
            raise LabUnavailable(f"cannot turn off {', '.join(still_on)} on {ifname}")


class WireLab(Lab):
    """A lab with a third namespace, "wire", between peer and target, that loses
    frames at random: the same link for both stacks, for loss-recovery figures.

        peer: peer0 <-veth-> wire0  wire: nftables  wire1 <-veth-> target0 :target

    The wire namespace has no address and no bridge: a netdev ingress chain on
    each of its ends drops `loss_pct` percent of the frames at random
    (`numgen random mod 100 < PCT drop`, each direction on its own) and hands
    the rest, unchanged, to the other end (`fwd`).  Peer and target keep the
    addresses and MACs of a plain Lab; the wire ends have MACs of their own
    that no frame carries.  Needs nftables (the `nft` tool, Debian package
    nftables); this kernel has no netem, so this is how the lab loses frames.
    Limits: loss only (no delay or reordering); ARP frames are lost like
    the rest; drops are independent, not bursts.
    """

    sides = ("peer", "wire", "target")
    links = {"peer": ("peer0",), "wire": ("wire0", "wire1"), "target": ("target0",)}

    def __init__(self, target="ours", peer="kernel", ttl=3600, offloads="off", loss_pct=0):
        """As Lab; loss_pct: whole percent of frames dropped each way, 0 to 100."""
        super().__init__(target, peer, ttl, offloads)
        self.loss_pct = _check_loss(loss_pct)

    def set_loss(self, loss_pct):
        """Replace the wire's rules, at once, by ones that drop `loss_pct` percent
        each way; CommandFailed if nft refuses them."""
        self.loss_pct = _check_loss(loss_pct)
        self._setup("wire", [_tool("nft"), "-f", "-"], stdin_text=wire_ruleset(self.loss_pct))

    def wire_rules(self):
        """The wire's nftables ruleset as `nft list ruleset` prints it."""
        return self._setup("wire", [_tool("nft"), "list", "ruleset"]).stdout

    def _make_links(self):
        """peer0 <-> wire0, made in peer; wire1 <-> target0, made in wire."""
        self._veth("peer", "peer0", PEER_MAC, "wire", "wire0", WIRE_MACS[0])
        self._veth("wire", "wire1", WIRE_MACS[1], "target", "target0", TARGET_MAC)

    def _before_up(self):
        """Load the wire's rules before any end is up, so no frame ever passes
        unfiltered (before them, the wire joins nothing)."""
        self.set_loss(self.loss_pct)


WIRE_MACS = ("02:00:00:00:01:01", "02:00:00:00:01:02")   # wire0, wire1


def wire_ruleset(loss_pct):
    """The nftables ruleset of the wire namespace: replaces any earlier one in
    one transaction; each end's ingress drops loss_pct percent, then forwards
    to the other end."""
    drop = f"numgen random mod 100 < {loss_pct} drop\n" if loss_pct else ""
    chains = []
    for inbound, outbound in (("wire0", "wire1"), ("wire1", "wire0")):
        chains.append(f"""  chain from_{inbound} {{
    type filter hook ingress device "{inbound}" priority 0; policy accept;
    {drop}    fwd to "{outbound}"
  }}
""")
    return "flush ruleset\ntable netdev wire {\n" + "".join(chains) + "}\n"


def _check_loss(loss_pct):
    """loss_pct as an int; ValueError unless it is a whole number 0 to 100."""
    if isinstance(loss_pct, bool) or not isinstance(loss_pct, int) or not 0 <= loss_pct <= 100:
        raise ValueError(f"loss_pct must be a whole percent, 0 to 100, not {loss_pct!r}")
    return loss_pct


def parse_ethtool_features(text):
    """{feature: state} from `ethtool -k` output, e.g. {"tx-checksumming": "off", ...}."""
    features = {}
    for line in text.splitlines():
        name, sep, state = line.strip().partition(":")
        if sep and state:
            features[name] = state.strip()
    return features


def _reap(proc, timeout):
    """Wait up to `timeout` s for Popen `proc` to exit, then SIGKILL it and wait 1 s more."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        try:
            proc.wait(1.0)
        except subprocess.TimeoutExpired:
            pass


def _kill(pid):
    """SIGKILL `pid`, ignoring a process that is already gone."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
