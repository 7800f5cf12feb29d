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
