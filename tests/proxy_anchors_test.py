#!/usr/bin/env python3
"""Real reverse proxies from Debian as direct_access targets, end to end.

Runs every `direct.*` case of the catalog against one proxy's spec in targets/
(nginx with buffering off and with its defaults, HAProxy, Caddy, Apache) and
asserts the outcome of each case: the verdict that proxy's documentation
gives (targets/README.md, "The proxies", cites it). A case missing from a
proxy's table must pass; a catalog case that did not run is a failure, so a
new direct case is judged on every proxy from the day it is added.

  proxy_anchors_test.py --bin build/dev/bin/streamcheck --target nginx-buffered

Needs the proxy's Debian package (scripts/bootstrap installs them all); ctest
labels these tests `proxies` (skip with `ctest -LE proxies`). A missing binary
fails with the package to install: CI has them, so they always run there.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# target: (binary, Debian package)
BINARIES = {
    "nginx": ("nginx", "nginx"),
    "nginx-buffered": ("nginx", "nginx"),
    "haproxy": ("haproxy", "haproxy"),
    "caddy": ("caddy", "caddy"),
    "apache": ("apache2", "apache2-bin"),
}

# Outcomes other than pass, with why (targets/README.md cites each source).
EXPECTED = {
    "nginx": {
        # nginx does not parse Connection: the fields it names pass both ways,
        # as do Proxy-Connection (requests) and Upgrade (responses).
        "direct.request-headers": "warn",
        "direct.response-headers": "warn",
    },
    "nginx-buffered": {
        # proxy_buffering on: the response read from the backend as fast as it
        # comes, into memory buffers and a temp file of up to 1024m.
        "direct.backpressure": "warn",
        # proxy_request_buffering on: the whole body read before it is sent on.
        "direct.large-upload": "warn",
        "direct.request-headers": "warn",
        "direct.response-headers": "warn",
    },
    "haproxy": {
        # The path goes to the backend as received: `..`, %2e%2e, %2F, //host.
        "direct.path-confined": "fail",
        # Connection-named fields pass both ways.
        "direct.request-headers": "warn",
        "direct.response-headers": "warn",
    },
    "caddy": {
        # Caddy 2.6.2 ends a chunked response cleanly when the upstream breaks off.
        "direct.truncation-visible": "fail",
        # A client that half-closes mid-upload gets an empty 200: Go's server
        # ends the request context, Caddy 2.6.2 writes no status (caddy#7396).
        "direct.truncated-upload": "fail",
    },
    "apache": {
        # mod_proxy_http answers a backend silent past ProxyTimeout with 502.
        "direct.backend-timeout": "warn",
    },
}


def run(bin_path, target, size_mb, work):
    results = os.path.join(work, "results.json")
    env = dict(os.environ, STREAMCHECK_ROOT=ROOT)
    argv = [bin_path, "run", "--target", target, "--cases", "direct.*", "--size-mb",
            str(size_mb), "--json", results, "--log-dir", os.path.join(work, "logs")]
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if not os.path.exists(results):
        sys.exit(f"no results from {' '.join(argv)} (exit {proc.returncode}):\n"
                 f"{proc.stdout}\n{proc.stderr}")
    with open(results) as f:
        return json.load(f), proc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bin", required=True, help="the streamcheck binary")
    parser.add_argument("--target", required=True, choices=sorted(EXPECTED))
    parser.add_argument("--size-mb", type=float, default=32,
                        help="--size-mb of the run (the memory cases need more than 64)")
    args = parser.parse_args()

    binary, package = BINARIES[args.target]
    if not (shutil.which(binary) or os.path.exists("/usr/sbin/" + binary)):
        sys.exit(f"{args.target}: {binary} is not installed (Debian package {package}: "
                 f"scripts/bootstrap installs it; skip these tests with ctest -LE proxies)")

    work = tempfile.mkdtemp(prefix=f"proxy-anchor-{args.target}-")
    report, proc = run(args.bin, args.target, args.size_mb, work)
    # No proxy here has an upload limit configured (no max_upload_bytes).
    expected = {"direct.upload-limit": "skip", **EXPECTED[args.target]}
    seen = {r["case"]: r for r in report["results"] if r.get("target") == args.target}
    problems = []
    for case_id in sorted(seen):
        want = expected.get(case_id, "pass")
        got = seen[case_id].get("outcome")
        line = f"{got:5} {case_id}"
        if got != want:
            problems.append(f"{case_id}: expected {want}, got {got}: "
                            f"{seen[case_id].get('message', '')}")
            line += f"   <- expected {want}"
        print(line)
    for case_id in sorted(set(expected) - set(seen)):
        problems.append(f"{case_id}: expected {expected[case_id]}, but it did not run")
    if not seen:
        problems.append("no direct case ran")
    if problems:
        print(f"\n{args.target}: {len(problems)} verdict(s) differ from the proxy's documented "
              f"behaviour (targets/README.md):", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        print(f"\nrun output:\n{proc.stdout[-4000:]}\nkept: {work}", file=sys.stderr)
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print(f"{args.target}: {len(seen)} direct cases, every verdict as documented")
    return 0


if __name__ == "__main__":
    sys.exit(main())
