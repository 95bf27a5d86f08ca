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
  and /usr/bin/python3.
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

_IFNAMES = {"peer": "peer0", "target": "target0"}
_OFFLOADS = ("tx-checksumming", "tcp-segmentation-offload",
             "generic-segmentation-offload", "generic-receive-offload")
_PYTHON = "/usr/bin/python3"
_EXTRA_PATH = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")
_PACKAGES = {"unshare": "util-linux", "nsenter": "util-linux",
             "setpriv": "util-linux", "ip": "iproute2", "ethtool": "ethtool",
             "sh": "dash", "cat": "coreutils"}
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

    def __init__(self, target="ours", peer="kernel", ttl=3600):
        """target: "ours" (no address on target0) or "linux" (192.0.2.2/24);
        peer: "kernel" (192.0.2.1/24 on peer0) or "raw" (no address);
        ttl: seconds after which the namespaces end by themselves."""
        if target not in ("ours", "linux"):
            raise ValueError(f"target must be 'ours' or 'linux', not {target!r}")
        if peer not in ("kernel", "raw"):
            raise ValueError(f"peer must be 'kernel' or 'raw', not {peer!r}")
        if not 0 < ttl < float("inf"):
            raise ValueError(f"ttl must be a positive finite number of seconds, not {ttl!r}")
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
        lab.pids = {side: int(state["pids"][side]) for side in SIDES}
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
        """Name of the veth end in `side`: "peer0" or "target0"."""
        _check_side(side)
        return _IFNAMES[side]

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
        _check_side(side)
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
        for side in SIDES:
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
        """IPv6 off, lo up, the veth, then per end: IPv6 off, offloads off,
        address, up. Order matters: nothing goes up before IPv6 is off."""
        for side in SIDES:
            self._disable_ipv6(side, "all", "default")
            self._setup(side, [_tool("ip"), "link", "set", "lo", "up"])
        if self.target == "linux":
            self._no_metrics_save()
        self._setup("peer", [
            _tool("ip"), "link", "add", "peer0", "address", PEER_MAC, "mtu", str(MTU),
            "type", "veth", "peer", "name", "target0", "address", TARGET_MAC,
            "mtu", str(MTU), "netns", str(self.pids["target"])], pidns=False)
        for side in SIDES:
            ifname = _IFNAMES[side]
            self._disable_ipv6(side, ifname)
            self._offloads_off(side)
            if self._address(side):
                self._setup(side, [_tool("ip"), "addr", "add", f"{self._address(side)}/{PREFIX}",
                                   "dev", ifname])
            self._setup(side, [_tool("ip"), "link", "set", ifname, "up"])
        for side in SIDES:
            self._wait_until_up(side)

    def _wait_until_up(self, side):
        """Wait (bounded) until the veth end of `side` has carrier: operstate UP."""
        show = [_tool("ip"), "-o", "link", "show", "dev", _IFNAMES[side]]
        if not _wait(lambda: " state UP " in self._setup(side, show).stdout, _START_TIMEOUT):
            raise LabUnavailable(f"{_IFNAMES[side]} did not reach state UP "
                                 f"within {_START_TIMEOUT} s")

    def _address(self, side):
        """The kernel's IPv4 address on the veth end of `side`, or None."""
        if side == "peer":
            return PEER_IP if self.peer == "kernel" else None
        return TARGET_IP if self.target == "linux" else None

    def _setup(self, side, argv, pidns=True, check=True):
        """Run a setup command in `side` (in its pid namespace unless pidns=False,
        where host pids make sense); CommandFailed if check and it fails."""
        result = subprocess.run(self._enter(side, pidns) + argv, capture_output=True, text=True,
                                timeout=_STEP_TIMEOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent())
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

    def _offloads_off(self, side):
        """Turn checksum/TSO/GSO/GRO offloads off on the veth end of `side`, then
        check with `ethtool -k` that they are off (fixed-off ones are fine)."""
        ifname = _IFNAMES[side]
        ethtool = _tool("ethtool")
        argv = [ethtool, "-K", ifname, "tx", "off", "tso", "off", "gso", "off", "gro", "off"]
        result = self._setup(side, argv, check=False)
        if result.returncode and "could not change" not in result.stderr.lower():
            raise CommandFailed(side, argv, result)
        features = parse_ethtool_features(self._setup(side, [ethtool, "-k", ifname]).stdout)
        still_on = [f for f in _OFFLOADS if not features.get(f, "").startswith("off")]
        if still_on:
            raise LabUnavailable(f"cannot turn off {', '.join(still_on)} on {ifname}")


def parse_ethtool_features(text):
    """{feature: state} from `ethtool -k` output, e.g. {"tx-checksumming": "off", ...}."""
    features = {}
    for line in text.splitlines():
        name, sep, state = line.strip().partition(":")
        if sep and state:
            features[name] = state.strip()
    return features


def _check_side(side):
    """ValueError unless `side` is "peer" or "target"."""
    if side not in SIDES:
        raise ValueError(f"side must be 'peer' or 'target', not {side!r}")


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
