#!/usr/bin/env python3
"""Where users wait, in one run: each figure a median, with a ratio against its reference measured
in the same run, interleaved so both see the same machine.

  render --profile prod                   vs kubectl kustomize of the same objects (and the
                                          instructions sparkup takes under callgrind, when
                                          valgrind is installed)
  steady-state apply --no-wait, prod      vs kubectl apply --server-side of the same objects
  steady-state diff, prod                 vs kubectl diff --server-side
  with --kubeconfig, on a cluster that runs pods:
  apply --profile dev, 2 workers, from    vs kubectl apply --server-side of the same objects and
    nothing until sparkup says ALIVE         kubectl rollout status (what helm install --wait does)
  master pod deleted until both workers   vs the new master pod Ready
    are ALIVE on the new master, without
    and with master.recovery on a claim

Without --kubeconfig, apply and diff run against the small fake API server of
benches/requests.py on 127.0.0.1, and the cluster rows are skipped. With it, every object goes
into namespaces of the bench's own (sparkup-bench-*), deleted afterwards.

Usage: python3 benches/speed.py [--runs N] [--binary PATH] [--kubeconfig FILE]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import ThreadingHTTPServer

from common import ROOT, fake_kubeconfig
import requests as fake_api  # benches/requests.py: the fake API server

PREFIX = "sparkup-bench"


def parse():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "sparkup"))
    parser.add_argument("--kubeconfig", help="a cluster to measure on (default: the fake API server)")
    args = parser.parse_args()
    if args.binary.endswith(os.path.join("release", "sparkup")):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return args


def timed(argv, env=None, allowed=(0,)):
    """Runs argv to its end; its wall time in seconds."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in allowed:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.decode()[-2000:]}")
    return elapsed


def output(argv, env=None):
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


class Table:
    """Rows of (what, median, reference, median of the reference, goal for the ratio)."""

    def __init__(self):
        self.rows = []

    def add(self, what, ours, reference, theirs, goal, unit="ms"):
        self.rows.append((what, statistics.median(ours), reference, statistics.median(theirs), goal, unit))

    def note(self, what, text):
        self.rows.append((what, None, text, None, None, None))

    def print(self, runs, where):
        print(f"\n{runs} runs each, interleaved; {where}")
        print(f"{'what':44} {'median':>10}  {'reference':52} {'median':>10} {'ratio':>7}  goal")
        for what, ours, reference, theirs, goal, unit in self.rows:
            if ours is None:
                print(f"{what:44} {'':>10}  {reference}")
                continue
            scale, suffix = (1000, " ms") if unit == "ms" else (1, " s")
            ratio = ours / theirs if theirs else float("nan")
            print(f"{what:44} {ours * scale:7.1f}{suffix:3}  {reference:52} {theirs * scale:7.1f}{suffix:3} "
                  f"x{ratio:5.3f}  {goal}")


def render_rows(table, args, tmp):
    folder = os.path.join(tmp, "render-prod")
    subprocess.run([args.binary, "render", "--profile", "prod", "--output-dir", folder], check=True,
                   stderr=subprocess.DEVNULL)
    ours, theirs = [args.binary, "render", "--profile", "prod"], ["kubectl", "kustomize", folder]
    for argv in (ours, theirs):  # the page cache
        timed(argv)
    times = {"ours": [], "theirs": []}
    for _ in range(max(args.runs, 30)):
        times["ours"].append(timed(ours))
        times["theirs"].append(timed(theirs))
    table.add("render --profile prod", times["ours"], "kubectl kustomize (same objects)", times["theirs"],
              "<= x0.05")
    if shutil.which("valgrind"):
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + ours,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        collected = re.search(r"Collected : (\d+)", proc.stderr)
        table.note("render --profile prod, instructions",
                   f"{int(collected.group(1)) / 1e6:.2f} M under callgrind (goal <= 8 M)")
    else:
        table.note("render --profile prod, instructions", "valgrind is not installed: not measured")


def fake_server():
    """The fake API server of benches/requests.py on 127.0.0.1, and a kubeconfig for it."""
    fake = fake_api.Fake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake_api.handler(fake))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def apply_diff_rows(table, args, env, namespace, tmp):
    """Steady-state apply and diff of the prod profile against kubectl on the same objects."""
    values = ["--profile", "prod", "--set", f"namespace={namespace}"]
    folder = os.path.join(tmp, f"apply-{namespace}")
    subprocess.run([args.binary, "render", *values, "--output-dir", folder], check=True, stderr=subprocess.DEVNULL)
    files = [a for f in sorted(os.listdir(folder)) if f != "kustomization.yaml" for a in ("-f", os.path.join(folder, f))]
    apply = [args.binary, "apply", *values, "--no-wait"]
    diff = [args.binary, "diff", *values]
    kubectl_apply = ["kubectl", "apply", "--server-side", "--field-manager=sparkup", *files]
    kubectl_diff = ["kubectl", "diff", "--server-side", "--field-manager=sparkup", *files]
    if args.kubeconfig is None:
        kubectl_apply.insert(3, "--validate=false")  # the fake serves no OpenAPI documents
    timed(apply, env)  # the first apply; then every one is a steady state
    timed(kubectl_apply, env)
    times = {name: [] for name in ("apply", "kubectl apply", "diff", "kubectl diff")}
    for _ in range(args.runs):
        times["apply"].append(timed(apply, env))
        times["kubectl apply"].append(timed(kubectl_apply, env))
        times["diff"].append(timed(diff, env, (0, 1)))
        times["kubectl diff"].append(timed(kubectl_diff, env, (0, 1)))
    table.add("steady-state apply --no-wait, prod", times["apply"], "kubectl apply --server-side",
              times["kubectl apply"], "<= x0.25")
    table.add("steady-state diff, prod", times["diff"], "kubectl diff --server-side", times["kubectl diff"],
              "<= x0.25")


class Proxy:
    """`kubectl proxy` on a loopback port of its own, for cheap polling."""

    def __init__(self, env):
        self.proc = subprocess.Popen(["kubectl", "proxy", "--port=0", "--address=127.0.0.1"], env=env,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        self.base = "http://" + re.search(r"127\.0\.0\.1:\d+", line).group(0)

    def get(self, path):
        try:
            with urllib.request.urlopen(self.base + path, timeout=5) as answer:
                return json.loads(answer.read())
        except (OSError, ValueError):
            return None

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def ready_pod(proxy, namespace, component, not_named=None):
    pods = proxy.get(f"/api/v1/namespaces/{namespace}/pods?labelSelector=app.kubernetes.io%2Fcomponent%3D{component}")
    for pod in (pods or {}).get("items", []):
        name = pod["metadata"]["name"]
        conditions = pod.get("status", {}).get("conditions", [])
        ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
        if ready and name != not_named and "deletionTimestamp" not in pod["metadata"]:
            return name
    return None


def master_json(proxy, namespace):
    return proxy.get(f"/api/v1/namespaces/{namespace}/services/http:spark-master:http/proxy/json/")


def gone(env, namespace):
    subprocess.run(["kubectl", "delete", "namespace", namespace, "--ignore-not-found", "--wait=true",
                    "--timeout=300s"], env=env, check=True, stdout=subprocess.DEVNULL)


def cluster_rows(table, args, env, tmp):
    """From nothing to ALIVE, and a replaced master, against kubectl's own waiting."""
    values = ["--profile", "dev", "--set", "workers.replicas=2"]
    ours_ns, theirs_ns = f"{PREFIX}-alive", f"{PREFIX}-kubectl"
    folder = os.path.join(tmp, "alive")
    subprocess.run([args.binary, "render", *values, "--set", f"namespace={theirs_ns}", "--output-dir", folder],
                   check=True, stderr=subprocess.DEVNULL)
    files = [a for f in sorted(os.listdir(folder)) if f != "kustomization.yaml" for a in ("-f", os.path.join(folder, f))]
    proxy = Proxy(env)
    times = {name: [] for name in ("alive", "kubectl", "replaced", "master ready", "recovered", "ready again")}
    recovery = values + ["--set", "master.recovery=filesystem", "--set", "master.recoveryDirectory=/state/recovery",
                         "--set", "storage[0].name=state", "--set", "storage[0].mountPath=/state",
                         "--set", "storage[0].size=1Gi", "--set", f"namespace={ours_ns}", "--timeout", "5m"]
    try:
        gone(env, theirs_ns)
        for _ in range(args.runs):
            # One cluster at a time: a small node may not hold two.
            gone(env, ours_ns)
            times["alive"].append(timed([args.binary, "apply", *values, "--set", f"namespace={ours_ns}", "--timeout",
                                         "5m"], env))
            alive, ready = replace_master(proxy, env, ours_ns)
            times["replaced"].append(alive)
            times["master ready"].append(ready)
            gone(env, ours_ns)
            # The same with the master's state on a claim: the new master calls its workers back.
            timed([args.binary, "apply", *recovery], env)
            alive, ready = replace_master(proxy, env, ours_ns)
            times["recovered"].append(alive)
            times["ready again"].append(ready)
            gone(env, ours_ns)
            gone(env, theirs_ns)
            output(["kubectl", "create", "namespace", theirs_ns], env)
            start = time.perf_counter()
            output(["kubectl", "apply", "--server-side", "--field-manager=sparkup", *files], env)
            output(["kubectl", "rollout", "status", "-n", theirs_ns, "--timeout=300s", "deployment/spark-master",
                    "deployment/spark-worker"], env)
            times["kubectl"].append(time.perf_counter() - start)
            gone(env, theirs_ns)
    finally:
        proxy.stop()
        for namespace in (ours_ns, theirs_ns):
            gone(env, namespace)
    table.add("apply --profile dev, 2 workers, until ALIVE", times["alive"],
              "kubectl apply --server-side + rollout status", times["kubectl"], "<= 10 s", unit="s")
    table.add("master pod deleted until 2 workers ALIVE", times["replaced"], "the new master pod Ready",
              times["master ready"], "<= 8 s", unit="s")
    table.add("  the same, master.recovery on a claim", times["recovered"], "the new master pod Ready",
              times["ready again"], "<= 8 s", unit="s")


def replace_master(proxy, env, namespace):
    """Deletes the master pod; seconds until both workers are ALIVE on a new master, and until
    the new master pod is Ready."""
    old = ready_pod(proxy, namespace, "master")
    url = (master_json(proxy, namespace) or {}).get("url")
    output(["kubectl", "delete", "pod", "-n", namespace, old, "--wait=false"], env)
    start = time.perf_counter()
    alive = ready = None
    while alive is None or ready is None:
        elapsed = time.perf_counter() - start
        if elapsed > 300:
            sys.exit(f"the master of {namespace} did not come back in 300 s")
        if ready is None and ready_pod(proxy, namespace, "master", not_named=old):
            ready = elapsed
        state = master_json(proxy, namespace)
        if alive is None and state and state.get("url") != url and state.get("status") == "ALIVE" \
                and state.get("aliveworkers") == 2:
            alive = elapsed
        time.sleep(0.05)
    return alive, ready


def nodes_ready(env):
    nodes = json.loads(output(["kubectl", "get", "nodes", "-o", "json"], env)).get("items", [])
    return any(c["type"] == "Ready" and c["status"] == "True"
               for n in nodes for c in n.get("status", {}).get("conditions", []))


def main():
    args = parse()
    table = Table()
    with tempfile.TemporaryDirectory(prefix="sparkup-speed-") as tmp:
        render_rows(table, args, tmp)
        if args.kubeconfig is None:
            server = fake_server()
            try:
                env = dict(os.environ, KUBECONFIG=fake_kubeconfig(server.server_address[1], tmp), HOME=tmp)
                apply_diff_rows(table, args, env, "default", tmp)
            finally:
                server.shutdown()
            table.note("cluster rows", "need --kubeconfig of a cluster that runs pods")
            where = "apply and diff against the fake API server on 127.0.0.1"
        else:
            env = dict(os.environ, KUBECONFIG=os.path.abspath(args.kubeconfig), KUBECTL_EXTERNAL_DIFF="diff -u -N")
            namespace = f"{PREFIX}-prod"
            try:
                apply_diff_rows(table, args, env, namespace, tmp)
            finally:
                gone(env, namespace)
            if nodes_ready(env):
                cluster_rows(table, args, env, tmp)
            else:
                table.note("cluster rows", "the cluster has no Ready node: not measured")
            where = f"against the cluster of {args.kubeconfig}"
    table.print(args.runs, where)


if __name__ == "__main__":
    main()
