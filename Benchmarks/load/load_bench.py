#!/usr/bin/env python3
"""Adaptive-load figures (issue 7, docs/BENCHMARKS.md): how much a background transfer gets in
the way of the user's own traffic on a shared 20/5 Mbit/s link with 20 ms delay each way.
Root only, Python 3 standard library only; see Benchmarks/load/README.md.

    swift build -c release --product piggyback
    sudo python3 Benchmarks/load/load_bench.py --bin .build/release --runs 5 --json load.json
    sudo python3 Benchmarks/load/load_bench.py --bin .build/debug --short      # CI: harness only

Network namespaces (names pbload<PID>-*, removed on exit, leftovers of dead runs removed at
start): `server`, `router`, `terminal` (the agent's), `terminal2` (traffic the agent cannot
see locally), and `wire` when the kernel has no netem. The bottleneck is on the router: a
bridge br0 holds the terminals' veths, so br0's egress qdisc is ONE queue shared by both
terminals downstream; r-s (toward the server) carries the shared upstream queue.
Background candidates (same package bytes, same `piggyback server`): a none, b curl unthrottled,
c curl --limit-rate 50 %, d the agent with the controller, e the agent without it.
"""
import argparse, atexit, glob, json, math, os, re, select, shutil, signal, socket, statistics, struct
import subprocess, sys, tempfile, threading, time

PREFIX = "pbload"
SERVER_IP, ROUTER_WAN, ROUTER_LAN = "10.77.0.2", "10.77.0.1", "10.77.1.1"
TERMINAL_IPS = ("10.77.1.11", "10.77.1.12")
AGENT_PORT, ADMIN_PORT = 7443, 7080                       # background traffic: the piggyback server
IPERF_PORT, HTTP_PORT, ECHO_PORT = 5201, 8080, 9000        # foreground traffic
BG_PORTS = (AGENT_PORT, ADMIN_PORT)
BUCKET = 0.05                                              # counter resolution, seconds
MAIL_BYTES = 200 * 1024
SOL_PACKET = 263
ETH_P_ALL, PACKET_OUTGOING, PACKET_VNET_HDR, PACKET_IGNORE_OUTGOING, SO_TIMESTAMPNS = 0x0003, 4, 15, 23, 35
CANDIDATES = {
    "a": "none",
    "b": "bulk, unthrottled (curl)",
    "c": "static 50 % cap (curl)",
    "d": "agent, controller",
    "e": "agent, no controller",
}
SCENARIOS = {"own": "foreground on the agent's terminal", "other": "foreground on terminal2 (not visible to the agent)"}


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def sh(*args, check=True, quiet=False):
    out = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args))} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}")
    return out


def in_ns(ns, *args):
    return ["ip", "netns", "exec", ns, *[str(a) for a in args]]


def self_role(ns, role, *args):
    return in_ns(ns, sys.executable, "-u", os.path.abspath(__file__), "--role", role, *args)


def kernel_time(ancdata):
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = struct.unpack("qq", data[:16])
            return sec + nsec / 1e9
    return time.time()


def packet_socket(dev, vnet=False, ignore_outgoing=False):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    if vnet:
        s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    if ignore_outgoing:
        s.setsockopt(SOL_PACKET, PACKET_IGNORE_OUTGOING, 1)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    for opt, size in ((33, 16 << 20), (32, 16 << 20)):  # SO_RCVBUFFORCE, SO_SNDBUFFORCE (root)
        try: s.setsockopt(socket.SOL_SOCKET, opt, size)
        except OSError: pass
    s.bind((dev, ETH_P_ALL))
    return s

# ---------------------------------------------------------------------------------------------
# Roles: this script re-invoked inside a namespace (`--role NAME ...`).

def role_wire(a, b, delay):
    """An L2 delay line between two veths (when the kernel has no netem): every frame read on one
    side is written to the other `delay` seconds after the kernel received it. PACKET_VNET_HDR
    carries GSO/checksum offload through unchanged, so 64 KB TSO frames pass as they are."""
    ends = [packet_socket(a, vnet=True, ignore_outgoing=True), packet_socket(b, vnet=True, ignore_outgoing=True)]
    queues = [[], []]  # frames waiting to leave by ends[i]: [due, bytes] in arrival order
    heads = [0, 0]
    offset = time.time() - time.monotonic()
    while True:
        now = time.monotonic()
        wait = 0.5
        for i in (0, 1):
            q = queues[i]
            while heads[i] < len(q) and q[heads[i]][0] <= now:
                try: ends[i].send(q[heads[i]][1])
                except OSError: pass  # a frame the veth refuses is a lost frame, as on a wire
                heads[i] += 1
            if heads[i] > 4096:
                del q[:heads[i]]; heads[i] = 0
            if heads[i] < len(q):
                wait = min(wait, q[heads[i]][0] - now)
        readable, _, _ = select.select(ends, [], [], max(0.0, wait))
        for s in readable:
            other = 1 - ends.index(s)
            while True:
                try:
                    data, anc, _, _ = s.recvmsg(262144, 64, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                queues[other].append([kernel_time(anc) - offset + delay, data])


def wire_bytes(frame, mtu=1500):
    """Bytes on the wire of an Ethernet frame (a GSO frame counts as its segments, as tbf does);
    returns (bytes, source IP, destination IP, source port, destination port) or None."""
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        return None
    ihl = (frame[14] & 15) * 4
    total = (frame[16] << 8) | frame[17]
    proto, src, dst = frame[23], socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
    sport = dport = 0
    l4 = 14 + ihl
    wire = total + 14
    if proto in (6, 17) and len(frame) >= l4 + 4:
        sport, dport = struct.unpack("!HH", frame[l4:l4 + 4])
        if proto == 6 and len(frame) >= l4 + 13:
            thl = (frame[l4 + 12] >> 4) * 4
            payload, mss = total - ihl - thl, mtu - ihl - thl
            segments = max(1, -(-payload // mss))
            wire += (segments - 1) * (14 + ihl + thl)
    return wire, src, dst, sport, dport


def role_sniff(down_dev, up_dev, terminals, bg_ports):
    """Counts the bytes leaving the router's two bottleneck interfaces (after the queues), by
    terminal and by class (background = the piggyback server's ports), in 50 ms buckets of the
    kernel's transmit timestamps. Prints `B index c0..c7`: down t0 bg, t0 fg, t1 bg, t1 fg,
    then the same upstream; the index is monotonic seconds / 0.05."""
    terminals = terminals.split(",")
    bg_ports = {int(p) for p in bg_ports.split(",")}
    socks = {packet_socket(down_dev): 0, packet_socket(up_dev): 1}
    offset = time.time() - time.monotonic()
    buckets = {}
    next_emit = time.monotonic() + BUCKET
    while True:
        readable, _, _ = select.select(list(socks), [], [], max(0.0, next_emit - time.monotonic()))
        for s in readable:
            direction = socks[s]
            while True:
                try:
                    data, anc, _, addr = s.recvmsg(160, 64, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    break
                if addr[2] != PACKET_OUTGOING:
                    continue
                parsed = wire_bytes(data)
                if not parsed:
                    continue
                size, src, dst, sport, dport = parsed
                host, port = (dst, sport) if direction == 0 else (src, dport)
                if host not in terminals:
                    continue
                key = direction * 4 + terminals.index(host) * 2 + (0 if port in bg_ports else 1)
                index = int((kernel_time(anc) - offset) / BUCKET)
                buckets.setdefault(index, [0] * 8)[key] += size
        now = time.monotonic()
        if now >= next_emit:
            next_emit = now + BUCKET
            done = int(now / BUCKET) - 2
            lines = [f"B {i} {' '.join(map(str, buckets.pop(i)))}" for i in sorted(k for k in buckets if k <= done)]
            if lines:
                sys.stdout.write("\n".join(lines) + "\n"); sys.stdout.flush()


def role_echo(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, int(port)))
    while True:
        data, peer = s.recvfrom(2048)
        s.sendto(data, peer)


def role_ping(host, port, hz, seconds):
    """50 Hz UDP echo (an ICMP ping's queueing, no iputils needed): prints JSON RTTs in ms."""
    hz, seconds = float(hz), float(seconds)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.connect((host, int(port)))
    offset = time.time() - time.monotonic()
    count = int(seconds * hz)
    sent, rtts = {}, {}
    start = time.monotonic()
    seq = 0
    while True:
        now = time.monotonic()
        if seq < count and now >= start + seq / hz:
            sent[seq] = time.monotonic()
            s.send(struct.pack("!Id", seq, sent[seq]) + b"\0" * 52)
            seq += 1
            continue
        deadline = start + seq / hz if seq < count else start + seconds + 1.0
        if now >= deadline and seq >= count:
            break
        r, _, _ = select.select([s], [], [], max(0.0, deadline - now))
        if r:
            data, anc, _, _ = s.recvmsg(2048, 64)
            got, at = struct.unpack("!Id", data[:12])
            if got in sent:
                rtts[got] = (kernel_time(anc) - offset - at) * 1000
    print(json.dumps({"sent": count, "rtt_ms": [rtts[i] for i in sorted(rtts)]}))


def role_probe(host, port):
    """Exit 0 once a TCP connect to host:port is refused (the path works, nobody listens)."""
    for _ in range(50):
        try:
            socket.create_connection((host, int(port)), timeout=1).close()
            return
        except ConnectionRefusedError:
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(1)


def run_role(argv):
    role, rest = argv[0], argv[1:]
    {"probe": lambda: role_probe(*rest),
     "wire": lambda: role_wire(rest[0], rest[1], float(rest[2])),
     "sniff": lambda: role_sniff(*rest),
     "echo": lambda: role_echo(*rest),
     "ping": lambda: role_ping(*rest)}[role]()

# ---------------------------------------------------------------------------------------------
# The test bed.

def pid_is_bench(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"load_bench" in f.read()
    except OSError:
        return False


def remove_namespace(ns):
    pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try: os.kill(int(pid), sig)
            except (ProcessLookupError, ValueError): pass
        if pids and sig == signal.SIGTERM:
            time.sleep(0.5)
            pids = sh("ip", "netns", "pids", ns, check=False).stdout.split()
    sh("ip", "netns", "del", ns, check=False)


def clean_leftovers():
    """Namespaces and work folders of runs whose process is gone (a crash, a kill -9)."""
    for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(rf"^{PREFIX}(\d+)-", name)
        if m and not pid_is_bench(int(m.group(1))):
            log(f"removing leftover namespace {name}")
            remove_namespace(name)
    for path in glob.glob(os.path.join(tempfile.gettempdir(), f"{PREFIX}-*-*")):
        m = re.match(rf"^{PREFIX}-(\d+)-", os.path.basename(path))
        if m and not pid_is_bench(int(m.group(1))):
            shutil.rmtree(path, ignore_errors=True)


class Testbed:
    """Namespaces, veths, addresses, routes and the router's qdiscs; `close` undoes it all."""

    def __init__(self, args):
        self.args = args
        pid = os.getpid()
        self.ns = {k: f"{PREFIX}{pid}-{k}" for k in ("server", "router", "terminal", "terminal2", "wire")}
        self.terminals = [self.ns["terminal"], self.ns["terminal2"]]
        self.created = []
        self.procs = []
        self.delay_mode = None

    def _add_ns(self, key):
        ns = self.ns[key]
        sh("ip", "netns", "add", ns)
        self.created.append(ns)
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh(*in_ns(ns, "sh", "-c", "for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 /proc/sys/net/ipv6/conf/default/disable_ipv6;"
                  " do [ -w $f ] && echo 1 > $f; done; true"))
        return ns

    def netem_available(self, ns):
        ok = sh("tc", "-n", ns, "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms", check=False).returncode == 0
        sh("tc", "-n", ns, "qdisc", "del", "dev", "lo", "root", check=False)
        return ok

    def setup(self):
        a = self.args
        s, r, t1, t2 = (self._add_ns(k) for k in ("server", "router", "terminal", "terminal2"))
        mode = a.delay_mode
        if mode == "auto":
            mode = "netem" if self.netem_available(r) else "wire"
        elif mode == "netem" and not self.netem_available(r):
            raise RuntimeError("--delay-mode netem: this kernel has no netem qdisc (sch_netem); use --delay-mode wire or auto")
        self.delay_mode = mode
        sh("ip", "-n", r, "link", "add", "br0", "type", "bridge")
        for dev, t in (("r-t1", t1), ("r-t2", t2)):
            sh("ip", "-n", r, "link", "add", dev, "type", "veth", "peer", "name", "eth0", "netns", t)
            sh("ip", "-n", r, "link", "set", dev, "master", "br0")
            sh("ip", "-n", r, "link", "set", dev, "up")
        if mode == "netem":
            sh("ip", "-n", r, "link", "add", "r-s", "type", "veth", "peer", "name", "eth0", "netns", s)
        else:
            w = self._add_ns("wire")
            sh("ip", "-n", r, "link", "add", "r-s", "type", "veth", "peer", "name", "w-r", "netns", w)
            sh("ip", "-n", w, "link", "add", "w-s", "type", "veth", "peer", "name", "eth0", "netns", s)
            for dev in ("w-r", "w-s"):
                sh("ip", "-n", w, "link", "set", dev, "promisc", "on", "up")
        for ns, dev, addr in ((r, "br0", f"{ROUTER_LAN}/24"), (r, "r-s", f"{ROUTER_WAN}/24"), (s, "eth0", f"{SERVER_IP}/24"),
                              (t1, "eth0", f"{TERMINAL_IPS[0]}/24"), (t2, "eth0", f"{TERMINAL_IPS[1]}/24")):
            sh("ip", "-n", ns, "addr", "add", addr, "dev", dev)
            sh("ip", "-n", ns, "link", "set", dev, "up")
        sh(*in_ns(r, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/ip_forward"))
        for t in (t1, t2):
            sh("ip", "-n", t, "route", "add", "default", "via", ROUTER_LAN)
        sh("ip", "-n", s, "route", "add", "10.77.1.0/24", "via", ROUTER_WAN)
        self.shape(r, "br0", a.down_mbit)
        self.shape(r, "r-s", a.up_mbit)
        if mode == "wire":
            self.spawn(self_role(self.ns["wire"], "wire", "w-r", "w-s", a.delay_ms / 1000))
        # The first packets settle ARP and prove the path (and the wire) works.
        for t in (t1, t2):
            if sh(*self_role(t, "probe", SERVER_IP, 1), check=False).returncode != 0:
                raise RuntimeError(f"{t} cannot reach the server at {SERVER_IP} through the router{' and the wire' if mode == 'wire' else ''}")

    def shape(self, ns, dev, mbit):
        """netem (delay) as the root with tbf (rate and the bottleneck's queue) as its child: a
        packet is delayed first, then waits in tbf's byte-limited FIFO. tbf as the parent would
        peek into netem, whose packet-limited queue would become the bottleneck buffer."""
        a = self.args
        rate = mbit * 1e6 / 8
        burst = int(max(16000, rate / 250 * 2))
        limit = int(rate * a.buffer_ms / 1000 + burst)
        tbf = ["tbf", "rate", f"{mbit}mbit", "burst", burst, "limit", limit]
        if self.delay_mode == "netem":
            sh("tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "handle", "1:", "netem", "delay", f"{a.delay_ms}ms", "limit", 100000)
            sh("tc", "-n", ns, "qdisc", "add", "dev", dev, "parent", "1:1", "handle", "10:", *tbf)
        else:
            sh("tc", "-n", ns, "qdisc", "add", "dev", dev, "root", "handle", "10:", *tbf)

    def spawn(self, cmd, log_path=None, **kw):
        out = open(log_path, "ab") if log_path else subprocess.DEVNULL
        proc = subprocess.Popen(cmd, stdout=kw.pop("stdout", out), stderr=kw.pop("stderr", subprocess.STDOUT if log_path else subprocess.DEVNULL), **kw)
        self.procs.append(proc)
        return proc

    def close(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try: p.wait(5)
            except subprocess.TimeoutExpired: p.kill()
        self.procs = []
        for ns in reversed(self.created):
            remove_namespace(ns)
        self.created = []


class Sniffer:
    """Reads the router's per-bucket byte counts (role_sniff) on a thread."""

    def __init__(self, bed):
        self.buckets, self.lock = {}, threading.Lock()
        self.proc = bed.spawn(self_role(bed.ns["router"], "sniff", "br0", "r-s", ",".join(TERMINAL_IPS), ",".join(map(str, BG_PORTS))),
                              stdout=subprocess.PIPE, stderr=None)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            parts = line.split()
            if parts and parts[0] == b"B":
                with self.lock:
                    self.buckets[int(parts[1])] = [int(x) for x in parts[2:]]

    def series(self, key, start, end):
        """Bytes per bucket of counter `key` (see role_sniff) for buckets start..end-1."""
        with self.lock:
            return [self.buckets.get(i, [0] * 8)[key] for i in range(start, end)]

    def wait_until_complete(self, t):
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and time.monotonic() < t + 3 * BUCKET:
            time.sleep(BUCKET)
        time.sleep(3 * BUCKET)


def idx(t):
    return int(t / BUCKET)

# ---------------------------------------------------------------------------------------------
# The server side: piggyback server, iperf3, an HTTP server, a UDP echo.

class Services:
    def __init__(self, bed, args, work):
        self.bed, self.args, self.work = bed, args, work
        s = bed.ns["server"]
        # A private copy: a rebuild of --bin during the benchmark must not change what runs.
        self.binary = os.path.join(work, "piggyback")
        shutil.copy2(os.path.join(args.bin, "piggyback"), self.binary)
        self.data = os.path.join(work, "server")
        bed.spawn(in_ns(s, self.binary, "server", "--data", self.data, "--listen", f"{SERVER_IP}:{AGENT_PORT}",
                        "--admin-listen", f"0.0.0.0:{ADMIN_PORT}", "--admin-tls", "--advertise", SERVER_IP,
                        "--discovery-port", "0", "--log-level", "warning"), os.path.join(work, "server.log"), cwd=work)
        www = os.path.join(work, "www"); os.makedirs(www)
        with open(os.path.join(www, "mail.bin"), "wb") as f:
            f.write(os.urandom(MAIL_BYTES))
        bed.spawn(in_ns(s, sys.executable, "-m", "http.server", HTTP_PORT, "--bind", SERVER_IP, "--directory", www))
        bed.spawn(in_ns(s, "iperf3", "-s", "-p", IPERF_PORT), os.path.join(work, "iperf3-server.log"))
        bed.spawn(self_role(s, "echo", SERVER_IP, ECHO_PORT))
        token_file = os.path.join(self.data, "admin-token")
        for _ in range(600):
            if os.path.exists(token_file):
                self.token = open(token_file).read().strip()
                if self.admin("GET", "/v1/health", check=False).returncode == 0:
                    break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"piggyback server did not start; see {work}/server.log")

    def admin(self, method, path, body=None, upload=None, check=True):
        cmd = ["curl", "-sfk", "-X", method, "-H", f"Authorization: Bearer {getattr(self, 'token', '')}",
               f"https://127.0.0.1:{ADMIN_PORT}{path}"]
        if body is not None:
            cmd += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        if upload:
            cmd += ["-T", upload]
        return sh(*in_ns(self.bed.ns["server"], *cmd), check=check)

    def add_package(self, name, size_mib):
        path = os.path.join(self.work, f"{name}.bin")
        with open(path, "wb") as f:
            f.write(b"#!/bin/sh\nexit 0\n")
            for _ in range(size_mib):
                f.write(os.urandom(1 << 20))
        self.admin("PUT", f"/v1/packages/{name}/1?kind=script", upload=path)
        self.admin("POST", "/v1/assignments", {"package": name, "all": True})
        os.remove(path)
        self.package = name
        self.enroll = json.loads(self.admin("POST", "/v1/enroll-tokens", {"uses": 100000, "expires_in_seconds": 86400}).stdout)["token"]
        return size_mib * (1 << 20) + 17

# ---------------------------------------------------------------------------------------------
# Background candidates.

REASONS = {  # RateDecision.Reason: the phrase `--trace` prints → the raw value
    "using idle capacity": "unlimited", "yielding to other traffic": "foreign_traffic",
    "yielding: round trips above target": "delay", "yielding: CPU busy": "cpu", "capped by configuration": "cap",
    "metered link": "gate_metered", "on battery": "gate_battery",
    "brief pause to re-measure the base delay": "probing_base_delay", "ramping up": "recovering"}
UNITS = {"B": 1, "KiB": 1024, "MiB": 1 << 20, "GiB": 1 << 30}


def parse_rate_line(line):
    """The throttle's trace line, `rate: 16.0 KiB/s, yielding to other traffic (link 2.4 MiB/s,
    base RTT 41 ms, queue 3 ms); foreign 1.2 KiB/s; CPU others 52 %; CPU pressure 1 %`, as
    {rate (B/s), reason, details, signals}; also `throttle key=value ...`. None otherwise."""
    m = re.search(r"\brate: ([0-9.]+) (B|KiB|MiB|GiB)/s, ([^(;]+?)\s*(?:\(([^)]*)\))?\s*(?:;\s*(.*))?$", line)
    if m:
        phrase = m.group(3).strip()
        return {"rate": round(float(m.group(1)) * UNITS[m.group(2)]), "reason": REASONS.get(phrase, phrase),
                "details": m.group(4) or "", "signals": (m.group(5) or "").strip()}
    m = re.search(r"\bthrottle((?:\s+[\w.-]+=\S+)+)", line)
    return dict(kv.split("=", 1) for kv in m.group(1).split()) if m else None


class Background:
    """Keeps one candidate's transfer running in `terminal` until stopped (restarting it, as a
    fresh agent, should it finish early); records the agent's `throttle` trace lines."""

    def __init__(self, kind, bed, svc, args, work, label):
        self.kind, self.bed, self.svc, self.args, self.work, self.label = kind, bed, svc, args, work, label
        self.stop_event = threading.Event()
        self.proc = None
        self.starts, self.failures, self.trace, self.downloads = 0, 0, [], []
        self.t0 = time.monotonic()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        if kind != "a":
            self.thread.start()

    def command(self, data):
        a, t = self.args, self.bed.ns["terminal"]
        if self.kind in ("b", "c"):
            cmd = ["curl", "-sk", "-o", "/dev/null", "-H", f"Authorization: Bearer {self.svc.token}",
                   f"https://{SERVER_IP}:{ADMIN_PORT}/v1/packages/{self.svc.package}/1/content"]
            if self.kind == "c":
                cmd += ["--limit-rate", str(int(a.down_mbit * 1e6 / 8 * a.cap_fraction))]
            return in_ns(t, *cmd)
        extra = a.agent_args.split() + (a.adaptive_args.split() if self.kind == "d" else a.unthrottled_args.split())
        return in_ns(t, self.svc.binary, "agent", "--data", data, "--enroll", self.svc.enroll, "--once", "--trace",
                     "--discovery", "list", "--server", f"wss://{SERVER_IP}:{AGENT_PORT}/v1/session", *extra)

    def _loop(self):
        while not self.stop_event.is_set():
            data = os.path.join(self.work, f"agent-{self.label}-{self.starts}")
            logf = open(os.path.join(self.work, f"bg-{self.label}-{self.starts}.log"), "w")
            self.proc = subprocess.Popen(self.command(data), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
            self.starts += 1
            for line in self.proc.stdout:
                now = time.monotonic()
                logf.write(f"{now - self.t0:9.3f} {line}")
                fields = parse_rate_line(line)
                if fields and len(self.trace) < 5000:
                    self.trace.append({"t": round(now, 3), **fields})
                m = re.search(r"downloaded: (\d+) B in ([0-9.]+) s", line)
                if m:
                    self.downloads.append({"bytes": int(m.group(1)), "seconds": float(m.group(2))})
            code = self.proc.wait()
            logf.close()
            shutil.rmtree(data, ignore_errors=True)
            if not self.stop_event.is_set() and code != 0:
                self.failures += 1
                log(f"  background {self.label} exited {code}; see {logf.name}")
                self.stop_event.wait(1.0)

    def stop(self):
        self.stop_event.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
        if self.thread.is_alive():
            self.thread.join(15)
        if self.proc and self.proc.poll() is None:
            self.proc.kill()

# ---------------------------------------------------------------------------------------------
# One run: a candidate in the background, the phases, the figures.

def percentile(values, p):
    values = sorted(values)
    if not values:
        return None
    return values[min(len(values) - 1, int(math.ceil(p / 100 * len(values))) - 1)]


def mail_loop(ns, start, seconds, every, out):
    k = 0
    while start + k * every < start + seconds:
        time.sleep(max(0.0, start + k * every - time.monotonic()))
        r = sh(*in_ns(ns, "curl", "-s", "-o", "/dev/null", "--max-time", "20", "-w", "%{time_total}",
                      f"http://{SERVER_IP}:{HTTP_PORT}/mail.bin"), check=False)
        out.append(float(r.stdout) * 1000 if r.returncode == 0 and r.stdout else None)
        k += 1


def yield_and_reclaim(bg, n_fg, n_all, window, cap):
    """bg: background bytes per bucket from the foreground's first bucket; the foreground ran for
    n_fg buckets, the quiet phase after it ends at n_all. Yield: from the first moment after
    which the background averages <= 10 % of capacity over the next window and over the rest of
    the foreground. Reclaim: from the foreground's end to the first moment after which it
    averages >= 80 % over the next window and until the quiet phase ends. Both need at least two
    windows left, and suffix means keep a bursty sender (curl --limit-rate pauses and bursts)
    from passing by chance. None: never."""
    yield_s = reclaim_s = None
    for i in range(0, n_fg - 2 * window + 1):
        if sum(bg[i:i + window]) <= 0.10 * cap * window and sum(bg[i:n_fg]) <= 0.10 * cap * (n_fg - i):
            yield_s = i * BUCKET; break
    for i in range(n_fg, n_all - 2 * window + 1):
        if sum(bg[i:i + window]) >= 0.80 * cap * window and sum(bg[i:n_all]) >= 0.80 * cap * (n_all - i):
            reclaim_s = (i - n_fg) * BUCKET; break
    return yield_s, reclaim_s


def run_one(bed, svc, sniffer, args, work, scenario, cand, rep):
    p = args.phases
    fg_index = 0 if scenario == "own" else 1
    fg_ns = bed.terminals[fg_index]
    cap = args.down_mbit * 1e6 / 8 * BUCKET                        # bytes per bucket at capacity
    bg_key, fg_key = 0, fg_index * 2 + 1                            # background: terminal's downstream, bg ports
    label = f"{scenario}-{cand}-{rep}"
    bg = Background(cand, bed, svc, args, work, label)
    t_start = time.monotonic()
    result = {"scenario": scenario, "candidate": cand, "run": rep}
    try:
        # Wait for the background to move bytes (enrollment and the session come first).
        if cand != "a":
            while time.monotonic() - t_start < args.start_timeout:
                now = idx(time.monotonic())
                if sum(sniffer.series(bg_key, idx(t_start), now)) >= 64 * 1024:
                    break
                time.sleep(0.1)
            else:
                result["error"] = f"background did not start within {args.start_timeout} s"
                return result
            result["lead_s"] = round(time.monotonic() - t_start, 2)
        time.sleep(p["settle"])
        t_idle = time.monotonic(); time.sleep(p["idle"])
        t_bulk = time.monotonic()
        try:
            iperf = subprocess.run(in_ns(fg_ns, "iperf3", "-c", SERVER_IP, "-p", IPERF_PORT, "-R", "-t", int(p["bulk"]), "-J"),
                                   capture_output=True, text=True, timeout=p["bulk"] + 60)
            result["fg_mbit"] = json.loads(iperf.stdout)["end"]["sum_received"]["bits_per_second"] / 1e6
        except (ValueError, KeyError, subprocess.TimeoutExpired) as e:
            result["fg_mbit"] = None
            log(f"  iperf3 failed: {e}")
        t_bulk_end = time.monotonic(); time.sleep(p["idle"])
        t_inter = time.monotonic()
        fetches = []
        mail = threading.Thread(target=mail_loop, args=(fg_ns, t_inter, p["interactive"], args.mail_every, fetches))
        mail.start()
        ping = subprocess.run(self_role(fg_ns, "ping", SERVER_IP, ECHO_PORT, args.ping_hz, p["interactive"]),
                              capture_output=True, text=True, timeout=p["interactive"] + 30)
        mail.join()
        t_end = time.monotonic()
    finally:
        bg.stop()
    pings = json.loads(ping.stdout) if ping.stdout.strip() else {"sent": 0, "rtt_ms": []}
    sniffer.wait_until_complete(t_end)

    # Attribution: bytes per 50 ms bucket after the bottleneck queue.
    bg_series = lambda a, b: sniffer.series(bg_key, a, b)
    fg_series = lambda a, b: sniffer.series(fg_key, a, b)
    b_idle, b_bulk, b_bulk_end, b_inter, b_end = idx(t_idle), idx(t_bulk), idx(t_bulk_end), idx(t_inter), idx(t_end)
    idle_bytes = bg_series(b_idle, b_bulk)
    result["idle_share"] = sum(idle_bytes) / (cap * max(1, len(idle_bytes)))
    fg = fg_series(b_bulk, b_inter)
    active = [i for i, v in enumerate(fg) if v >= 0.05 * cap]
    fg_start = b_bulk + (active[0] if active else 0)
    fg_stop = b_bulk + (active[-1] + 1 if active else b_bulk_end - b_bulk)
    window = max(1, int(round(p["window"] / BUCKET)))
    bgs = bg_series(fg_start, b_inter)
    yield_s, reclaim_s = yield_and_reclaim(bgs, fg_stop - fg_start, b_inter - fg_start, window, cap)
    during = bgs[:max(1, fg_stop - fg_start)]
    result.update({
        "yield_s": yield_s, "reclaim_s": reclaim_s,
        "bg_share_during_bulk": sum(during) / (cap * len(during)),
        "bg_share_during_interactive": sum(bg_series(b_inter, b_end)) / (cap * max(1, b_end - b_inter)),
        "fetch_ms": fetches, "fetch_p95_ms": percentile([f for f in fetches if f is not None], 95),
        "ping_sent": pings["sent"], "ping_lost": pings["sent"] - len(pings["rtt_ms"]),
        "ping_p95_ms": percentile(pings["rtt_ms"], 95), "ping_median_ms": percentile(pings["rtt_ms"], 50),
        "bg_mbytes": sum(bg_series(idx(t_start), b_end)) / 1e6,
        "bg_starts": bg.starts, "bg_failures": bg.failures, "agent_downloads": bg.downloads, "throttle_trace": bg.trace,
    })
    if cand != "a" and result["bg_mbytes"] < 0.064:
        result["error"] = "background moved no bytes"
    if args.series:
        result["series"] = {"t0": round(b_idle * BUCKET, 3), "bucket_s": BUCKET, "phases": {
            "idle": 0, "bulk": b_bulk - b_idle, "fg_start": fg_start - b_idle, "fg_stop": fg_stop - b_idle,
            "idle2": b_bulk_end - b_idle, "interactive": b_inter - b_idle, "end": b_end - b_idle},
            "bg": bg_series(b_idle, b_end), "fg": fg_series(b_idle, b_end)}
    return result

# ---------------------------------------------------------------------------------------------
# Summary.

def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def summarize(runs, args):
    summary = {}
    for scenario in args.scenarios:
        rows = {}
        base = {r["run"]: r for r in runs if r["scenario"] == scenario and r["candidate"] == "a" and "error" not in r}
        for cand in args.candidates:
            mine = [r for r in runs if r["scenario"] == scenario and r["candidate"] == cand]
            ok = [r for r in mine if "error" not in r]
            loss, infl, added = [], [], []
            for r in ok:
                b = base.get(r["run"])
                if not b:
                    continue
                if r.get("fg_mbit") and b.get("fg_mbit"):
                    loss.append(1 - r["fg_mbit"] / b["fg_mbit"])
                if r.get("fetch_p95_ms") and b.get("fetch_p95_ms"):
                    infl.append(r["fetch_p95_ms"] / b["fetch_p95_ms"] - 1)
                if r.get("ping_p95_ms") is not None and b.get("ping_p95_ms") is not None:
                    added.append(r["ping_p95_ms"] - b["ping_p95_ms"])
            inf = float("inf")
            yields = [r["yield_s"] if r["yield_s"] is not None else inf for r in ok]
            reclaims = [r["reclaim_s"] if r["reclaim_s"] is not None else inf for r in ok]
            finite = lambda v: None if v is None or v == inf else v
            rows[cand] = {
                "name": CANDIDATES[cand], "runs": len(mine), "errors": len(mine) - len(ok),
                "fg_mbit": med([r.get("fg_mbit") for r in ok]), "fg_loss": med(loss),
                "fetch_p95_ms": med([r.get("fetch_p95_ms") for r in ok]), "fetch_p95_inflation": med(infl),
                "ping_p95_ms": med([r.get("ping_p95_ms") for r in ok]), "ping_p95_added_ms": med(added),
                "idle_share": med([r["idle_share"] for r in ok]),
                "bg_share_during_bulk": med([r["bg_share_during_bulk"] for r in ok]),
                "bg_share_during_interactive": med([r["bg_share_during_interactive"] for r in ok]),
                "yield_s": finite(statistics.median(yields)) if yields else None,
                "yield_never": bool(yields) and statistics.median(yields) == inf,
                "reclaim_s": finite(statistics.median(reclaims)) if reclaims else None,
                "reclaim_never": bool(reclaims) and statistics.median(reclaims) == inf,
            }
        summary[scenario] = rows
    return summary


def print_table(summary, args, out=sys.stdout):
    pct = lambda v: "–" if v is None else f"{v * 100:6.1f} %"
    num = lambda v, f="{:.1f}": "–" if v is None else f.format(v)
    for scenario, rows in summary.items():
        print(f"\n{SCENARIOS[scenario]} — medians of {args.runs} run(s); capacity {args.down_mbit:g}/{args.up_mbit:g} Mbit/s, "
              f"{args.delay_ms:g} ms each way ({args.delay_mode}), {args.buffer_ms:g} ms buffer", file=out)
        head = f"{'candidate':<28}{'fg Mbit/s':>10}{'fg loss':>10}{'fetch p95':>11}{'inflation':>11}{'ping p95':>10}{'added':>9}" \
               f"{'idle used':>11}{'bg in fg':>10}{'yield':>8}{'reclaim':>9}"
        print(head, file=out); print("-" * len(head), file=out)
        for cand, r in rows.items():
            y = "never" if r["yield_never"] else num(r["yield_s"], "{:.2f}s")
            rc = "–" if cand == "a" else ("never" if r["reclaim_never"] else num(r["reclaim_s"], "{:.2f}s"))
            err = f"  ({r['errors']} failed)" if r["errors"] else ""
            print(f"{cand + ' ' + r['name']:<28}{num(r['fg_mbit']):>10}{pct(r['fg_loss']):>10}{num(r['fetch_p95_ms'], '{:.0f} ms'):>11}"
                  f"{pct(r['fetch_p95_inflation']):>11}{num(r['ping_p95_ms'], '{:.1f} ms'):>10}{num(r['ping_p95_added_ms'], '{:+.1f}'):>9}"
                  f"{pct(r['idle_share']):>11}{pct(r['bg_share_during_bulk']):>10}{y:>8}{rc:>9}{err}", file=out)

# ---------------------------------------------------------------------------------------------

def report(path):
    with open(path) as f:
        saved = json.load(f)
    args = argparse.Namespace(**saved["config"])
    cap = args.down_mbit * 1e6 / 8 * BUCKET
    window = max(1, int(round(args.phases["window"] / BUCKET)))
    for r in saved["runs"]:
        s = r.get("series")
        if s and "error" not in r:
            ph = s["phases"]
            bg = s["bg"][ph["fg_start"]:ph["interactive"]]
            r["yield_s"], r["reclaim_s"] = yield_and_reclaim(bg, ph["fg_stop"] - ph["fg_start"], ph["interactive"] - ph["fg_start"], window, cap)
    print_table(summarize(saved["runs"], args), args)
    return 0


def ensure_tools(args):
    needed = {"ip": "iproute2", "tc": "iproute2", "iperf3": "iperf3", "curl": "curl"}
    missing = sorted({pkg for tool, pkg in needed.items() if not shutil.which(tool)})
    if not missing:
        return
    if args.no_install or not shutil.which("apt-get"):
        sys.exit(f"missing tools; install the Debian packages: {' '.join(missing)}")
    log(f"installing {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    if subprocess.run(["apt-get", "install", "-y", *missing], env=env).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env)
        subprocess.run(["apt-get", "install", "-y", *missing], env=env, check=True)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=".build/release", help="folder with the piggyback binary")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--short", action="store_true", help="CI: one run, short phases, checks only that the harness works")
    ap.add_argument("--json", help="write every run and the summary to this file")
    ap.add_argument("--series", action="store_true", help="include the 50 ms byte series of each run in --json")
    ap.add_argument("--candidates", default="a,b,c,d,e", help="subset of a,b,c,d,e (a, the reference, is always run)")
    ap.add_argument("--scenarios", default="own,other", help="own (foreground on the agent's terminal), other (on terminal2)")
    ap.add_argument("--agent-args", default="", help="extra arguments for both agent candidates (d, e)")
    ap.add_argument("--adaptive-args", default="--throttle adaptive", help="extra arguments for d, the agent with its controller")
    ap.add_argument("--unthrottled-args", default="--throttle off", help="extra arguments for e, the agent without it")
    ap.add_argument("--down-mbit", type=float, default=20)
    ap.add_argument("--up-mbit", type=float, default=5)
    ap.add_argument("--delay-ms", type=float, default=20, help="one-way delay, each way")
    ap.add_argument("--buffer-ms", type=float, default=100, help="bottleneck buffer (tbf limit) in ms at the link rate")
    ap.add_argument("--delay-mode", choices=("auto", "netem", "wire"), default="auto",
                    help="netem on the router, or a userspace L2 delay line (kernels without sch_netem); auto picks netem if present")
    ap.add_argument("--cap-fraction", type=float, default=0.5, help="candidate c's static cap as a fraction of the downstream rate")
    ap.add_argument("--size-mib", type=int, help="background package size (default: enough for one run at full rate)")
    ap.add_argument("--idle-s", type=float); ap.add_argument("--bulk-s", type=int); ap.add_argument("--interactive-s", type=float)
    ap.add_argument("--settle-s", type=float)
    ap.add_argument("--mail-every", type=float, default=2.0)
    ap.add_argument("--ping-hz", type=float, default=50)
    ap.add_argument("--start-timeout", type=float, default=60)
    ap.add_argument("--report", metavar="FILE", help="print the table of an earlier --json FILE (yield and reclaim recomputed from --series)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (logs) after the run")
    ap.add_argument("--no-install", action="store_true", help="do not apt-get install missing tools")
    args = ap.parse_args()
    args.candidates = ["a"] + [c for c in args.candidates.split(",") if c in CANDIDATES and c != "a"]
    args.scenarios = [s for s in args.scenarios.split(",") if s in SCENARIOS]
    if args.short:
        args.runs = 1
    d = {"settle": 0.5, "idle": 1.5, "bulk": 3, "interactive": 3.0, "window": 0.5} if args.short else \
        {"settle": 2.0, "idle": 10.0, "bulk": 20, "interactive": 20.0, "window": 0.5}
    for key, value in (("settle", args.settle_s), ("idle", args.idle_s), ("bulk", args.bulk_s), ("interactive", args.interactive_s)):
        if value is not None:
            d[key] = value
    args.phases = d
    if args.size_mib is None:
        seconds = d["settle"] + 2 * d["idle"] + d["bulk"] + d["interactive"] + 5
        args.size_mib = int(math.ceil(args.down_mbit * 1e6 / 8 * seconds * 1.25 / (1 << 20)))
    return args


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "--role":
        return run_role(sys.argv[2:])
    args = parse_args()
    if args.report:
        return report(args.report)
    if os.getuid() != 0:
        sys.exit("load_bench.py needs root (network namespaces, tc)")
    if not os.access(os.path.join(args.bin, "piggyback"), os.X_OK):
        sys.exit(f"no piggyback binary in {args.bin}; build it (swift build --product piggyback) or pass --bin")
    ensure_tools(args)
    clean_leftovers()
    work = tempfile.mkdtemp(prefix=f"{PREFIX}-{os.getpid()}-", dir=os.environ.get("BENCH_DIR"))
    bed = Testbed(args)
    closed = []

    def teardown():
        if closed:
            return
        closed.append(True)
        bed.close()
        if args.keep:
            log(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    atexit.register(teardown)
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, lambda s, f: sys.exit(128 + s))

    runs, failed_setup = [], False
    try:
        try:
            bed.setup()
            args.delay_mode = bed.delay_mode
            log(f"test bed up ({bed.delay_mode} delay); starting the servers")
            svc = Services(bed, args, work)
            size = svc.add_package("loadbench", args.size_mib)
            sniffer = Sniffer(bed)
        except Exception as e:
            failed_setup = True
            raise
        log(f"package {size / 2**20:.0f} MiB registered; {args.runs} run(s) × {len(args.scenarios)} scenario(s) × {len(args.candidates)} candidates")
        started = time.monotonic()
        for rep in range(args.runs):
            for scenario in args.scenarios:
                for cand in args.candidates:
                    r = run_one(bed, svc, sniffer, args, work, scenario, cand, rep)
                    runs.append(r)
                    if "error" in r:
                        log(f"run {rep + 1} {scenario} {cand}: {r['error']}")
                    else:
                        y = lambda v: "never" if v is None else f"{v:.2f}s"
                        log(f"run {rep + 1} {scenario:<5} {cand}: fg {r['fg_mbit'] or 0:5.1f} Mbit/s, fetch p95 {r['fetch_p95_ms'] or 0:5.0f} ms, "
                            f"ping p95 {r['ping_p95_ms'] or 0:6.1f} ms, idle used {r['idle_share'] * 100:5.1f} %, "
                            f"bg in fg {r['bg_share_during_bulk'] * 100:5.1f} %, yield {y(r['yield_s'])}, reclaim {y(r['reclaim_s'])}")
                        if r["throttle_trace"]:
                            reasons = {}
                            for entry in r["throttle_trace"]:
                                reasons[entry.get("reason", "?")] = reasons.get(entry.get("reason", "?"), 0) + 1
                            log(f"  throttle trace: {len(r['throttle_trace'])} line(s); reasons {reasons}")
        summary = summarize(runs, args)
        print_table(summary, args)
        log(f"measured in {time.monotonic() - started:.0f} s")
        if args.json:
            config = {k: v for k, v in vars(args).items() if k not in ("json",)}
            config["delay_mode"] = bed.delay_mode
            config["congestion_control"] = open("/proc/sys/net/ipv4/tcp_congestion_control").read().strip()
            config["kernel"] = os.uname().release
            with open(args.json, "w") as f:
                json.dump({"config": config, "summary": summary, "runs": runs}, f, indent=1)
        broken = [r for r in runs if "error" in r]
        if broken:
            log(f"{len(broken)} run(s) failed: the harness (or an agent flag) is broken")
            return 1
        return 0
    except Exception as e:
        log(f"{'setup' if failed_setup else 'benchmark'} failed: {e}")
        return 2
    finally:
        teardown()


if __name__ == "__main__":
    sys.exit(main())
