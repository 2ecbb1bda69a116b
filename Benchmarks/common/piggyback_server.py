"""What the Python benchmarks share: a `piggyback server` on loopback with its admin API over
TLS (`--admin-tls`), so a curl baseline and our transfer cross the same TLS stack of the same
process."""
import json, os, ssl, subprocess, time, urllib.request

def free_port():
    import socket
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

class Server:
    """One server process with a fresh data directory under `work`."""
    def __init__(self, bin_dir, work, extra=()):
        self.data = os.path.join(work, "server")
        self.port, self.admin = free_port(), free_port()
        self.proc = subprocess.Popen([
            os.path.join(bin_dir, "piggyback"), "server", "--data", self.data,
            "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin}", "--admin-tls",
            "--discovery-port", "0", "--log-level", "warning", *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        token_file = os.path.join(self.data, "admin-token")
        for _ in range(600):
            if os.path.exists(token_file):
                try:
                    self.token = open(token_file).read().strip()
                    self.call("GET", "/v1/health")
                    return
                except Exception:
                    pass
            time.sleep(0.1)
        raise RuntimeError("server did not start")

    def call(self, method, path, body=None, data=None):
        ctx = ssl._create_unverified_context()
        req = urllib.request.Request(f"https://127.0.0.1:{self.admin}{path}", method=method,
                                     headers={"Authorization": f"Bearer {self.token}"})
        if body is not None:
            req.data = json.dumps(body).encode(); req.add_header("Content-Type", "application/json")
        return json.loads(urllib.request.urlopen(req, context=ctx, timeout=600).read() or b"null")

    def peak_rss_kib(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmHWM"))

    def stop(self):
        self.proc.terminate(); self.proc.wait(30)
