#!/usr/bin/env python3
"""Requests and time per command: `sparkup apply`/`diff` against `kubectl apply --server-side` /
`kubectl diff --server-side` on the same objects (the prod profile), both against one small fake
API server on 127.0.0.1 that this script starts and stops. The fake answers discovery, server-side
apply (dry run too), reads, lists and the Spark master's /json/ through the service proxy, and
counts every request. Runs are interleaved; times are medians. A first deploy starts from an
empty store; a steady-state apply applies what the one before it applied. `kubectl apply` runs with
--validate=false: with validation it would also download /openapi/v3 and a document per group
version, which the fake does not serve, so its apply count here is a lower bound.

Usage: python3 benches/requests.py [--runs N] [--binary PATH]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import fake_kubeconfig, parse_args
VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def resources(*names):
    return [
        {"name": plural, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": VERBS}
        for plural, kind, namespaced in names
    ]


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"],
             "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": group, "versions": [{"groupVersion": f"{group}/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": f"{group}/v1", "version": "v1"}}
        for group in ["apps", "policy", "networking.k8s.io"]]},
    "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": resources(
        ("namespaces", "Namespace", False), ("configmaps", "ConfigMap", True),
        ("services", "Service", True), ("persistentvolumeclaims", "PersistentVolumeClaim", True),
        ("secrets", "Secret", True), ("pods", "Pod", True))},
    "/apis/apps/v1": {"kind": "APIResourceList", "groupVersion": "apps/v1", "resources": resources(
        ("deployments", "Deployment", True))},
    "/apis/policy/v1": {"kind": "APIResourceList", "groupVersion": "policy/v1", "resources": resources(
        ("poddisruptionbudgets", "PodDisruptionBudget", True))},
    "/apis/networking.k8s.io/v1": {"kind": "APIResourceList", "groupVersion": "networking.k8s.io/v1",
                                   "resources": resources(("networkpolicies", "NetworkPolicy", True))},
}


class Fake:
    def __init__(self):
        self.objects = {}
        self.count = 0
        self.lock = threading.Lock()


def handler(fake):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes: without this, delayed ACKs add 40 ms each.
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def reply(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def not_found(self):
            self.reply(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404, "message": "not found"})

        def do_GET(self):
            with fake.lock:
                fake.count += 1
            path, _, query = self.path.partition("?")
            if path in DISCOVERY:
                return self.reply(200, DISCOVERY[path])
            if "/proxy/" in path:
                return self.reply(200, {"status": "ALIVE", "aliveworkers": 4})
            if path.startswith("/api/v1/namespaces/") and path.count("/") == 4:
                return self.reply(200, {"apiVersion": "v1", "kind": "Namespace",
                                        "metadata": {"name": path.rsplit("/", 1)[1]}})
            selector = urllib.parse.parse_qs(query).get("labelSelector")
            if selector:
                key, _, value = selector[0].partition("=")
                items = [o for p, o in fake.objects.items() if p.rsplit("/", 1)[0] == path
                         and o.get("metadata", {}).get("labels", {}).get(key) == value]
                return self.reply(200, {"kind": "List", "apiVersion": "v1", "items": items})
            if path in fake.objects:
                obj = dict(fake.objects[path])
                spec = obj.get("spec", {})
                if obj.get("kind") == "Deployment":
                    want = spec.get("replicas", 1)
                    obj["status"] = {"observedGeneration": 1, "replicas": want, "readyReplicas": want,
                                     "updatedReplicas": want, "availableReplicas": want}
                return self.reply(200, obj)
            return self.not_found()

        def do_PATCH(self):
            with fake.lock:
                fake.count += 1
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"{}")
            path, _, query = self.path.partition("?")
            body.setdefault("metadata", {}).update({"uid": "1", "resourceVersion": "1", "generation": 1})
            if "dryRun=All" not in query:
                fake.objects[path] = body
            self.reply(200, body)

        def do_POST(self):
            self.do_PATCH()

        def do_DELETE(self):
            with fake.lock:
                fake.count += 1
            fake.objects.pop(self.path.partition("?")[0], None)
            self.reply(200, {"kind": "Status", "status": "Success"})

    return Handler


def run(argv, env, allowed):
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in allowed:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def main():
    args = parse_args(__doc__, 15)

    fake = Fake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        with tempfile.TemporaryDirectory(prefix="sparkup-requests-") as tmp:
            kubeconfig = fake_kubeconfig(port, tmp)
            folder = os.path.join(tmp, "prod")
            subprocess.run([args.binary, "render", "--profile", "prod", "--output-dir", folder],
                           check=True, stderr=subprocess.DEVNULL)
            files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f != "kustomization.yaml")
            env = dict(os.environ, KUBECONFIG=kubeconfig, HOME=tmp, KUBECTL_EXTERNAL_DIFF="diff -u -N")
            kubectl_files = [a for f in files for a in ("-f", f)]
            sparkup_apply = [args.binary, "apply", "--profile", "prod", "--timeout", "30s"]
            kubectl_apply = ["kubectl", "apply", "--server-side", "--validate=false", "--field-manager=sparkup",
                             *kubectl_files]
            kubectl_diff = ["kubectl", "diff", "--server-side", "--field-manager=sparkup", *kubectl_files]
            # (argv, exit codes that are not failures, a fresh HOME so kubectl's discovery cache is cold)
            commands = {
                "sparkup apply (apply, prune, wait)": (sparkup_apply, {0}, False),
                "sparkup apply --no-wait (apply, prune)": (sparkup_apply + ["--no-wait"], {0}, False),
                "sparkup apply --no-wait, steady state": (sparkup_apply + ["--no-wait"], {0}, False),
                "kubectl apply --server-side, cold cache": (kubectl_apply, {0}, True),
                "kubectl apply --server-side, warm cache": (kubectl_apply, {0}, False),
                "kubectl apply --server-side, steady state": (kubectl_apply, {0}, False),
                "sparkup diff": ([args.binary, "diff", "--profile", "prod"], {0, 1}, False),
                "kubectl diff --server-side, cold cache": (kubectl_diff, {0, 1}, True),
                "kubectl diff --server-side, warm cache": (kubectl_diff, {0, 1}, False),
            }
            counts = {name: [] for name in commands}
            times = {name: [] for name in commands}
            for i in range(args.runs):
                for name, (argv, allowed, cold) in commands.items():
                    if "apply" in name and "steady" not in name:
                        fake.objects.clear()  # every apply creates, as a first deploy does
                    home = os.path.join(tmp, f"home-{i}-{len(counts[name])}") if cold else tmp
                    before = fake.count
                    times[name].append(run(argv, dict(env, HOME=home), allowed))
                    counts[name].append(fake.count - before)
    finally:
        server.shutdown()

    print(f"{'command (prod profile, fake API server on 127.0.0.1)':52} {'requests':>8} {'median ms':>10}")
    for name in commands:
        print(f"{name:52} {statistics.median(counts[name]):8.0f} {statistics.median(times[name]) * 1000:10.1f}")
    pairs = (("sparkup apply --no-wait (apply, prune)", "kubectl apply --server-side, cold cache"),
             ("sparkup apply --no-wait, steady state", "kubectl apply --server-side, steady state"),
             ("sparkup diff", "kubectl diff --server-side, cold cache"))
    for ours, theirs in pairs:
        ratio = statistics.median(counts[ours]) / statistics.median(counts[theirs])
        time_ratio = statistics.median(times[ours]) / statistics.median(times[theirs])
        print(f"{ours} / {theirs}: requests x{ratio:.2f}, time x{time_ratio:.2f}")


if __name__ == "__main__":
    main()
