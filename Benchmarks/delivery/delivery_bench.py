#!/usr/bin/env python3
"""Delivery figures (docs/BENCHMARKS.md, issue 5): throughput against curl over HTTPS, and the
server's memory while many terminals download a large package at once. Release binaries:

    swift build -c release --product piggyback
    python3 Benchmarks/delivery/delivery_bench.py --bin .build/release [--size-mib 200] [--runs 5] \
        [--agents 20] [--memory-size-mib 1024]

One `piggyback server` on loopback with the admin API over TLS (--admin-tls), so both
transfers cross the same TLS stack of the same server process:
- baseline: `curl` fetching the package's bytes over HTTPS (`GET /v1/packages/N/V/content`)
  into a file on the same disk;
- ours: `piggyback agent --once` (a fresh enrolled terminal each run) receiving the same bytes
  as a delivery (1030 chunks, 70 acknowledgements), timed by the agent from its first 70 to
  the last chunk verified and fsynced ("downloaded: N B in T s (…; S s of it the final
  fsync)" in its summary).
Two ratios: transfer (the agent's time without its final fsync against curl's time_total: both
end with the bytes written to the page cache) and durable (the agent's whole time against
curl's time_total plus a `sync` right after it: both end with the bytes on disk). Every
transfer starts with nothing dirty in the page cache (`sync` before it).
Runs alternate; medians are reported. The package is a `script` whose first line exits, so
installing it costs nothing and only the transfer is measured.
Memory: N agents download a large package at the same time; the server's peak RSS (VmHWM).
"""
import argparse, json, os, re, shutil, statistics, subprocess, sys, tempfile, time, urllib.request, ssl

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from piggyback_server import Server as BaseServer, free_port  # noqa: E402

class Server(BaseServer):
    def add_package(self, name, size_mib, work):
        path = os.path.join(work, f"{name}.bin")
        with open(path, "wb") as f:
            f.write(b"#!/bin/sh\nexit 0\n")
            for _ in range(size_mib):
                f.write(os.urandom(1 << 20))
        subprocess.run(["curl", "-sfk", "-X", "PUT", "-H", f"Authorization: Bearer {self.token}", "-T", path,
                        f"https://127.0.0.1:{self.admin}/v1/packages/{name}/1?kind=script"], check=True, stdout=subprocess.DEVNULL)
        self.call("POST", "/v1/assignments", {"package": name, "all": True})
        os.remove(path)
        return size_mib * (1 << 20) + 17

def agent_once(bin_dir, server, work, token, label):
    data = os.path.join(work, f"agent-{label}")
    out = subprocess.run([os.path.join(bin_dir, "piggyback"), "agent", "--data", data, "--enroll", token, "--once",
                          "--discovery", "list", "--server", f"wss://127.0.0.1:{server.port}/v1/session", "--throttle", "off"],
                         capture_output=True, text=True, timeout=3600)
    shutil.rmtree(data, ignore_errors=True)
    if out.returncode != 0:
        raise RuntimeError(out.stdout + out.stderr)
    match = re.search(r"downloaded: (\d+) B in ([0-9.]+) s .*?; ([0-9.]+) s of it the final fsync", out.stdout)
    if not match:
        raise RuntimeError("no download in:\n" + out.stdout)
    return int(match.group(1)), float(match.group(2)), float(match.group(3))

def curl_once(server, work, name):
    target = os.path.join(work, "curl.out")
    out = subprocess.run(["curl", "-sfk", "-o", target, "-w", "%{size_download} %{time_total}", "-H", f"Authorization: Bearer {server.token}",
                          f"https://127.0.0.1:{server.admin}/v1/packages/{name}/1/content"], capture_output=True, text=True, check=True)
    started = time.monotonic()
    os.sync()
    synced = time.monotonic() - started
    os.remove(target)
    size, seconds = out.stdout.split()
    return int(float(size)), float(seconds), synced

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--size-mib", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--agents", type=int, default=20)
    ap.add_argument("--memory-size-mib", type=int, default=1024)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--server-arg", action="append", default=[], help="extra argument for `piggyback server` (repeat)")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pb-delivery-bench-", dir=os.environ.get("BENCH_DIR"))
    server = Server(args.bin, work, args.server_arg)
    try:
        size = server.add_package("big", args.size_mib, work)
        token = server.call("POST", "/v1/enroll-tokens", {"uses": 10000, "expires_in_seconds": 86400})["token"]
        ours, theirs, ours_durable, theirs_durable = [], [], [], []
        for run in range(args.runs):
            # Each transfer starts with nothing dirty in the page cache: the agent fsyncs the
            # package before verifying it, and that fsync should not pay for writing back the
            # benchmark's own files (the package source, the server's blob, the last run's).
            os.sync()
            n, t, synced = curl_once(server, work, "big"); assert n == size, (n, size)
            theirs.append(n / t); theirs_durable.append(n / (t + synced))
            os.sync()
            n, t, fsync = agent_once(args.bin, server, work, token, f"t{run}"); assert n == size, (n, size)
            ours.append(n / (t - fsync)); ours_durable.append(n / t)
            print(f"run {run + 1}: transfer curl {theirs[-1] / 2**20:.1f} MiB/s, piggyback {ours[-1] / 2**20:.1f} MiB/s; "
                  f"durable curl+sync {theirs_durable[-1] / 2**20:.1f} MiB/s, piggyback {ours_durable[-1] / 2**20:.1f} MiB/s", flush=True)
        for label, a, b in (("transfer", ours, theirs), ("durable", ours_durable, theirs_durable)):
            mo, mt = statistics.median(a), statistics.median(b)
            print(f"throughput {args.size_mib} MiB, {label}: piggyback median {mo / 2**20:.1f} MiB/s, curl median {mt / 2**20:.1f} MiB/s, ratio {mo / mt:.2f}")
        if not args.skip_memory:
            server.call("DELETE", "/v1/packages/big/1")
            server.add_package("huge", args.memory_size_mib, work)
            before = server.peak_rss_kib()
            procs = []
            for i in range(args.agents):
                data = os.path.join(work, f"mem-{i}")
                procs.append((data, subprocess.Popen([os.path.join(args.bin, "piggyback"), "agent", "--data", data, "--enroll", token, "--once",
                    "--discovery", "list", "--server", f"wss://127.0.0.1:{server.port}/v1/session", "--throttle", "off"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)))
            started = time.monotonic()
            ok = 0
            for data, proc in procs:
                output = proc.communicate(timeout=7200)[0]
                ok += 1 if f"downloaded: {args.memory_size_mib * (1 << 20) + 17} B" in output else 0
                shutil.rmtree(data, ignore_errors=True)
            print(f"memory: {args.agents} agents × {args.memory_size_mib} MiB at once, {ok} complete in {time.monotonic() - started:.0f} s; "
                  f"server peak RSS {server.peak_rss_kib() / 1024:.1f} MiB (before {before / 1024:.1f} MiB)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
