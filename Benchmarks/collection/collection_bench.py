#!/usr/bin/env python3
"""Collection figures (docs/BENCHMARKS.md, issue 6): upload throughput against curl over HTTPS,
and the bytes a grown log costs. Release binaries:

    swift build -c release --product piggyback
    python3 Benchmarks/collection/collection_bench.py --bin .build/release [--size-mib 200] [--runs 5] [--log-mib 100]

One `piggyback server` on loopback with the admin API over TLS (--admin-tls), so both
transfers cross the same TLS stack of the same server process and end in the same blob store:
- ours: `piggyback agent --once` collecting a fresh random file (a one-time order for all
  terminals), timed by the agent from each file's 50 header to the server's `stored` answer
  ("uploaded: N B in T s" in its summary; hashing before the header is not included);
- baseline: `curl -T` uploading the same file to `PUT /v1/uploads` (streamed into the blob
  store) over HTTPS, curl's time_total.
The agent goes first each run: the server keeps blobs by content, and an upload of bytes it
already holds would cost nothing.
Log growth: a standing `--log` order over a log of --log-mib MiB; after the first collection
1 MiB is appended and the next session's telex bytes sent (everything, not only chunks) are read
from the summary.
"""
import argparse, os, re, shutil, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from piggyback_server import Server  # noqa: E402

class Agent:
    def __init__(self, bin_dir, server, work, token):
        self.bin, self.server = bin_dir, server
        self.data = os.path.join(work, "agent")
        self.root = os.path.join(work, "outbox")
        os.makedirs(self.root, exist_ok=True)
        self.args = [os.path.join(bin_dir, "piggyback"), "agent", "--data", self.data, "--once", "--discovery", "list",
                     "--server", f"wss://127.0.0.1:{server.port}/v1/session", "--collect-root", self.root, "--throttle", "off"]
        self.run(["--enroll", token])

    def run(self, extra=()):
        out = subprocess.run(self.args + list(extra), capture_output=True, text=True, timeout=3600)
        if out.returncode != 0:
            raise RuntimeError(out.stdout + out.stderr)
        return out.stdout

def random_file(path, size_mib):
    with open(path, "wb") as f:
        for _ in range(size_mib):
            f.write(os.urandom(1 << 20))
    return size_mib << 20

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=".build/release")
    ap.add_argument("--size-mib", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--log-mib", type=int, default=100)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="pb-collection-bench-", dir=os.environ.get("BENCH_DIR"))
    server = Server(args.bin, work)
    try:
        token = server.call("POST", "/v1/enroll-tokens", {"uses": 10, "expires_in_seconds": 86400})["token"]
        agent = Agent(args.bin, server, work, token)
        ours, theirs = [], []
        for run in range(args.runs):
            name = f"result-{run}.bin"
            path = os.path.join(agent.root, name)
            size = random_file(path, args.size_mib)
            server.call("POST", "/v1/collections", {"all": True, "paths": [name]})
            output = agent.run()
            match = re.search(r"uploaded: (\d+) B in ([0-9.]+) s", output)
            if not match or int(match.group(1)) != size:
                raise RuntimeError("no upload of the whole file in:\n" + output)
            ours.append(size / float(match.group(2)))
            curl = subprocess.run(["curl", "-sfk", "-X", "PUT", "-H", "Expect:", "-T", path, "-o", "/dev/null", "-w", "%{size_upload} %{time_total}",
                                   "-H", f"Authorization: Bearer {server.token}", f"https://127.0.0.1:{server.admin}/v1/uploads"],
                                  capture_output=True, text=True, check=True)
            sent, seconds = curl.stdout.split()
            assert int(float(sent)) == size, (sent, size)
            theirs.append(size / float(seconds))
            os.remove(path)
            print(f"run {run + 1}: piggyback {ours[-1] / 2**20:.1f} MiB/s, curl {theirs[-1] / 2**20:.1f} MiB/s", flush=True)
        mo, mt = statistics.median(ours), statistics.median(theirs)
        print(f"upload throughput {args.size_mib} MiB: piggyback median {mo / 2**20:.1f} MiB/s, curl median {mt / 2**20:.1f} MiB/s, ratio {mo / mt:.2f}")

        log = os.path.join(agent.root, "app.log")
        with open(log, "wb") as f:
            for _ in range(args.log_mib):
                f.write(os.urandom(1 << 20))
        server.call("POST", "/v1/collections", {"all": True, "kind": "log", "paths": ["app.log"]})
        agent.run()
        with open(log, "ab") as f:
            f.write(os.urandom(1 << 20))
        output = agent.run()
        sent = int(re.search(r"telex bytes: (\d+) sent", output).group(1))
        print(f"log growth: {args.log_mib} MiB log + 1 MiB appended → {sent} telex bytes sent ({sent / 2**20:.3f} MiB; goal ≤ 1.1 MiB)")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
