"""What both benchmark scripts share: their arguments and a release build of sparkup."""

import argparse
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_args(doc, default_runs):
    """--runs and --binary; builds target/release/sparkup when that is the binary."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=default_runs)
    parser.add_argument("--binary", default=os.path.join(ROOT, "target", "release", "sparkup"))
    args = parser.parse_args()
    if args.binary.endswith(os.path.join("release", "sparkup")):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    return args


def fake_kubeconfig(port, folder):
    """A kubeconfig in `folder` for a fake API server on 127.0.0.1:`port`; its path."""
    path = os.path.join(folder, "kubeconfig")
    with open(path, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: default}}}}]
current-context: fake
users: [{{name: fake, user: {{token: bench}}}}]
""")
    return path
