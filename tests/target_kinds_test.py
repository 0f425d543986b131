#!/usr/bin/python3
"""Target kinds end to end: servers started by hand, a running `streamcheck mock`,
an external backend, https with a self-signed certificate, HTTP/2 (Debian's
nghttpx in front of the reference server), a `localhost` url, secrets in headers,
and a mock whose spec makes it gzip.

Each test starts what it needs itself (ports picked free, processes in their own
process group, killed by group at the end), runs the built `streamcheck run`
against a spec it writes, and reads results.json.

Usage: tests/target_kinds_test.py --bin build/dev/bin/streamcheck
Needs /usr/bin/python3 with flask, fastapi, httpx and uvicorn, nghttpx
(nghttp2-proxy) and openssl; a missing tool fails the test.
"""

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = None
START_TIMEOUT_S = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, ready, timeout_s=START_TIMEOUT_S):
    """Polls `ready` (bounded); fails naming `what` when it never holds."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("%s within %d s" % (what, timeout_s))


def answers(url):
    """Whether anything answers HTTP at `url` (any status: a DRUM /ping says 503
    while its backend is down)."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except Exception:  # not up yet
        return False


class Processes:
    """Processes started by a test, each in its own group, killed by group."""

    def __init__(self, folder):
        self.folder = folder
        self.started = []

    def start(self, name, cmd, env=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        log = open(os.path.join(self.folder, name + ".log"), "w")
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=full_env,
                             start_new_session=True, cwd=self.folder)
        self.started.append(p)
        return p

    def start_on_free_port(self, name, what, cmd, ready_path):
        """Starts `cmd` (a streamcheck command that takes --port 0 --port-file F),
        waits for the port it took and for an answer on `ready_path`; returns the port."""
        port_file = os.path.join(self.folder, name + ".port")
        self.start(name, [*cmd, "--port", "0", "--port-file", port_file])
        port = int(wait_until(what + " writes its port",
                              lambda: os.path.exists(port_file) and open(port_file).read()))
        wait_until(what + " answers " + ready_path,
                   lambda: answers("http://127.0.0.1:%d%s" % (port, ready_path)))
        return port

    def serve(self, backend_url, name="server"):
        """The reference server by hand; returns its port."""
        return self.start_on_free_port(
            name, "the reference server",
            [ARGS.bin, "serve", "--backend", backend_url, "--backend-headers-timeout-ms", "3000"],
            "/ping")

    def mock(self, name="mock"):
        """`streamcheck mock` by hand; returns its port."""
        return self.start_on_free_port(name, "the mock", [ARGS.bin, "mock"], "/_mock/info")

    def stop(self):
        for p in self.started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)


class Workdir:
    """A fresh folder and its processes; the folder stays when the test failed."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="target_kinds_test-")
        self.processes = Processes(self.path)
        return self

    def __exit__(self, kind, value, tb):
        self.processes.stop()
        if kind is None:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print("kept", self.path, file=sys.stderr)

    def spec(self, spec):
        path = os.path.join(self.path, spec["name"] + ".json")
        with open(path, "w") as f:
            json.dump(spec, f)
        return path

    def run(self, spec, *flags, env=None, timeout=600):
        """`streamcheck run` of one spec; returns (exit code, output, {case: result})."""
        out_dir = os.path.join(self.path, "out-" + spec["name"])
        full_env = dict(os.environ)
        full_env.update(env or {})
        quiet = [] if "-v" in flags else ["-q"]
        p = subprocess.run([ARGS.bin, "run", "--target", self.spec(spec), "--report-dir",
                            out_dir, *quiet, *flags], cwd=self.path, env=full_env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        results = {}
        path = os.path.join(out_dir, "results.json")
        if os.path.exists(path):
            with open(path) as f:
                report = json.load(f)
            results = {r["case"]: r for r in report["results"]}
        return p.returncode, p.stdout, results


def outcomes(results):
    return {case: r["outcome"] for case, r in results.items()}


def not_passed(results, allowed_skips=()):
    """Cases that did not pass, but for skips whose reason holds one of `allowed_skips`."""
    bad = {}
    for case, r in results.items():
        if r["outcome"] == "pass":
            continue
        reason = r.get("message", "")
        if r["outcome"] == "skip" and any(s in reason for s in allowed_skips):
            continue
        bad[case] = (r["outcome"], reason[:300])
    return bad


# A url target is not spawned: the cases that judge what happens to the
# process (it survives, it shuts down) cannot run and say so.
URL_SKIPS = ("spawned", "started by the harness", "not started by")
# Cases that need a fact the spec does not declare (request_timeout_s,
# max_upload_bytes, the tools feature) skip and say which.
SPEC_SKIPS = ("declares no request_timeout_s", "declares no max_upload_bytes",
              "features do not include tools")


class UrlTargetsTest(unittest.TestCase):
    def test_reference_server_by_hand_with_mock_listen_passes_as_spawned(self):
        with Workdir() as w:
            mock_port = free_port()
            port = w.processes.serve("http://127.0.0.1:%d" % mock_port)
            code, out, results = w.run({
                "name": "by-hand",
                "url": "http://127.0.0.1:%d" % port,
                "mock": {"listen": "127.0.0.1:%d" % mock_port},
                "backend_timeout_s": 3,
            })
            self.assertTrue(results, out)
            self.assertEqual(not_passed(results, URL_SKIPS + SPEC_SKIPS), {}, out)
            # Its pid is found from its listening socket, so memory is measured.
            self.assertEqual(results["direct.memory-bounded"]["outcome"], "pass", out)
            self.assertEqual(code, 0, out)

    def test_mock_listen_on_a_taken_port_is_a_clear_start_error(self):
        with Workdir() as w, socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = taken.getsockname()[1]
            code, out, _ = w.run({"name": "taken", "url": "http://127.0.0.1:1",
                                  "mock": {"listen": "127.0.0.1:%d" % port}},
                                 "--cases", "chat.status")
            self.assertEqual(code, 3, out)
            self.assertIn("127.0.0.1:%d" % port, out)
            self.assertIn("another process using the port", out)

    def test_a_running_mock_driven_over_its_control_api(self):
        with Workdir() as w:
            mock_port = w.processes.mock()
            port = w.processes.serve("http://127.0.0.1:%d" % mock_port)
            cases = "chat.incremental,chat.content-parity,direct.incremental,direct.integrity"
            code, out, results = w.run({
                "name": "mock-url",
                "url": "http://localhost:%d" % port,
                "mock": {"url": "http://127.0.0.1:%d" % mock_port},
            }, "--cases", cases, "--size-mb", "8")
            self.assertEqual(sorted(results), sorted(cases.split(",")), out)
            self.assertEqual(not_passed(results), {}, out)
            self.assertEqual(code, 0, out)

    def test_a_server_that_never_calls_the_mock_ends_after_the_first_case(self):
        with Workdir() as w:
            elsewhere = w.processes.mock(name="elsewhere")
            port = w.processes.serve("http://127.0.0.1:%d" % elsewhere)
            code, out, results = w.run({
                "name": "misconfigured",
                "url": "http://127.0.0.1:%d" % port,
                "mock": {"listen": "127.0.0.1:%d" % free_port()},
            }, "--cases", "chat.*")
            errors = [c for c, r in results.items() if r["outcome"] == "error"]
            self.assertTrue(errors, out)
            self.assertIn("never called the mock backend", out)
            self.assertIn("point its backend there", out)
            # The first case that calls a backend says so; only cases that call
            # no backend (refusals, the INFO record) can pass.
            self.assertEqual(results["chat.status"]["outcome"], "error", out)
            passed = {c for c, r in results.items() if r["outcome"] == "pass"}
            self.assertLessEqual(passed, {"chat.bad-json", "chat.missing-messages",
                                          "chat.framing"}, out)
            self.assertEqual(code, 3, out)

    def test_external_backend_runs_only_what_needs_no_mock(self):
        with Workdir() as w:
            real_backend = w.processes.mock(name="real-backend")
            port = w.processes.serve("http://127.0.0.1:%d" % real_backend)
            code, out, results = w.run({
                "name": "external",
                "url": "http://127.0.0.1:%d" % port,
                "backend": "external",
            })
            skipped = {c for c, r in results.items() if r["outcome"] == "skip" and
                       "needs the mock backend" in r.get("message", "")}
            ran = {c for c, r in results.items() if r["outcome"] != "skip"}
            self.assertIn("direct.integrity", skipped, out)
            self.assertIn("chat.incremental", skipped, out)
            for case in ("chat.status", "chat.sse-grammar", "chat.chunk-schema",
                         "chat.done-terminator", "chat.finish-reason", "server.ready"):
                self.assertIn(case, ran, out)
            self.assertEqual(not_passed({c: results[c] for c in ran}, SPEC_SKIPS), {}, out)
            self.assertEqual(code, 0, out)


class DetachedServersTest(unittest.TestCase):
    """targets/flask (werkzeug, reads the whole upstream body) started by hand and
    by a wrapper that detaches it: both fail as they do when spawned."""

    def flask_env(self, mock_port):
        return {"OPENAI_HOST": "127.0.0.1", "OPENAI_PORT": str(mock_port)}

    def test_flask_by_hand_fails_direct_incremental(self):
        with Workdir() as w:
            mock_port, port = free_port(), free_port()
            w.processes.start("flask", ["/usr/bin/python3", os.path.join(ROOT, "targets", "flask",
                                                                        "app.py"),
                                        "--address", "127.0.0.1:%d" % port],
                              env=self.flask_env(mock_port))
            wait_until("flask answers /ping",
                       lambda: answers("http://127.0.0.1:%d/ping" % port))
            code, out, results = w.run({
                "name": "flask-by-hand", "url": "http://127.0.0.1:%d" % port,
                "mock": {"listen": "127.0.0.1:%d" % mock_port}, "backend_timeout_s": 3,
            }, "--cases", "direct.incremental")
            self.assertEqual(outcomes(results), {"direct.incremental": "fail"}, out)
            self.assertEqual(code, 1, out)

    def test_flask_detached_by_a_wrapper_is_still_measured_and_fails(self):
        with Workdir() as w:
            wrapper = os.path.join(w.path, "detach.sh")
            with open(wrapper, "w") as f:
                # Double fork: the server's parent exits at once, so the
                # server is no descendant of the spec's command.
                f.write("#!/bin/sh\n( setsid /usr/bin/python3 %s --address 127.0.0.1:$1 "
                        ">%s/detached.log 2>&1 & ) \nexit 0\n" %
                        (os.path.join(ROOT, "targets", "flask", "app.py"), w.path))
            os.chmod(wrapper, 0o755)
            code, out, results = w.run({
                "name": "flask-detached", "command": [wrapper, "{port}"],
                "env": {"OPENAI_HOST": "{backend_host}", "OPENAI_PORT": "{backend_port}"},
                "backend_timeout_s": 3,
            }, "--cases", "direct.incremental,direct.memory-bounded", "--size-mb", "100")
            self.assertEqual(outcomes(results), {"direct.incremental": "fail",
                                                 "direct.memory-bounded": "fail"}, out)
            self.assertIn("PSS", results["direct.memory-bounded"]["message"], out)


def make_certificate(folder):
    """A CA and a server certificate for localhost and 127.0.0.1, by openssl."""
    def ssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True,
                       timeout=60)
    ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
        "/CN=streamcheck test CA", "-keyout", "ca.key", "-out", "ca.pem")
    ssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout",
        "server.key", "-out", "server.csr")
    with open(os.path.join(folder, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    ssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem")
    return [os.path.join(folder, n) for n in ("ca.pem", "server.key", "server.pem")]


# Cases that need a plain-text TCP connection of their own.
RAW_SOCKET = ("raw socket", "raw-socket", "plain TCP")
STREAMING_CASES = ("chat.status,chat.incremental,chat.sse-grammar,chat.done-terminator,"
                   "chat.content-parity,chat.client-abort,direct.incremental,direct.integrity,"
                   "direct.status-passthrough,direct.truncation-visible,direct.client-abort")


class TlsAndHttp2Test(unittest.TestCase):
    """nghttpx (Debian's nghttp2-proxy) terminates TLS and HTTP/2 in front of
    the reference server, as a load balancer does."""

    def front(self, w, tls):
        mock_port = free_port()
        backend = w.processes.serve("http://127.0.0.1:%d" % mock_port)
        front_port = free_port()
        cmd = [shutil.which("nghttpx") or "/usr/sbin/nghttpx",
               "--frontend=127.0.0.1,%d%s" % (front_port, "" if tls else ";no-tls"),
               "--backend=127.0.0.1,%d" % backend, "--workers=1", "--no-ocsp",
               "--frontend-read-timeout=60s", "--frontend-write-timeout=60s",
               "--backend-read-timeout=60s", "--backend-write-timeout=60s",
               "--errorlog-file=" + os.path.join(w.path, "nghttpx-error.log"),
               "--accesslog-file=" + os.path.join(w.path, "nghttpx-access.log")]
        ca = None
        if tls:
            ca, key, cert = make_certificate(w.path)
            cmd += [key, cert]
        proxy = w.processes.start("nghttpx", cmd)
        wait_until("nghttpx listens (see nghttpx.log)",
                   lambda: self.listening(front_port) or proxy.poll() is not None)
        self.assertIsNone(proxy.poll(), open(os.path.join(w.path, "nghttpx.log")).read())
        return mock_port, front_port, ca

    @staticmethod
    def listening(port):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    def run_through(self, w, name, url, mock_port, extra):
        spec = {"name": name, "url": url, "mock": {"listen": "127.0.0.1:%d" % mock_port},
                "backend_timeout_s": 3}
        spec.update(extra)
        code, out, results = w.run(spec, "--cases", STREAMING_CASES, "--size-mb", "8")
        self.assertEqual(sorted(results), sorted(STREAMING_CASES.split(",")), out)
        self.assertEqual(not_passed(results), {}, out)
        self.assertEqual(code, 0, out)
        return results

    def test_https_with_a_self_signed_certificate_and_ca_file(self):
        with Workdir() as w:
            mock_port, port, ca = self.front(w, tls=True)
            results = self.run_through(w, "https", "https://localhost:%d" % port, mock_port,
                                       {"ca_file": ca})
            self.assertIn("1.1", json.dumps(results["chat.status"]["evidence"]))

    def test_https_without_the_ca_is_refused_not_passed(self):
        with Workdir() as w:
            mock_port, port, _ = self.front(w, tls=True)
            code, out, results = w.run({"name": "untrusted", "url": "https://localhost:%d" % port,
                                        "mock": {"listen": "127.0.0.1:%d" % mock_port},
                                        "ready_timeout_s": 3}, "--cases", "chat.status")
            self.assertNotEqual(code, 0, out)
            self.assertNotIn("pass", outcomes(results).values(), out)
            self.assertIn("certificate", out.lower())

    def test_http2_over_tls_by_alpn(self):
        with Workdir() as w:
            mock_port, port, ca = self.front(w, tls=True)
            results = self.run_through(w, "h2", "https://localhost:%d" % port, mock_port,
                                       {"ca_file": ca, "http_version": "2"})
            self.assertIn('"http_version": "2"',
                          json.dumps(results["chat.status"]["evidence"]))

    def test_h2c_with_prior_knowledge(self):
        with Workdir() as w:
            mock_port, port, _ = self.front(w, tls=False)
            results = self.run_through(w, "h2c", "http://127.0.0.1:%d" % port, mock_port,
                                       {"http_version": "2"})
            self.assertIn('"http_version": "2"',
                          json.dumps(results["chat.status"]["evidence"]))


class SecretsTest(unittest.TestCase):
    def test_bearer_token_reaches_the_server_and_no_report(self):
        with Workdir() as w:
            seen = os.path.join(w.path, "authorization.seen")
            port = free_port()
            w.processes.start("recorder", ["/usr/bin/python3", os.path.join(HERE, "servers",
                                                                            "auth_recorder.py"),
                                           str(port), seen])
            wait_until("the recorder answers", lambda: answers("http://127.0.0.1:%d/ping" % port))
            token = "sk-streamcheck-%d-secret" % os.getpid()
            code, out, results = w.run({
                "name": "auth", "url": "http://127.0.0.1:%d" % port, "backend": "external",
                "headers": {"Authorization": "Bearer ${STREAMCHECK_TEST_TOKEN}"},
            }, "--cases", "chat.status,server.ready", "-v",
                env={"STREAMCHECK_TEST_TOKEN": token})
            self.assertTrue(results, out)
            with open(seen) as f:
                self.assertIn("Bearer " + token, f.read())
            self.assertNotIn(token, out)
            for folder, _, files in os.walk(w.path):
                for name in files:
                    if name.endswith(".seen"):  # the recorder's own record of it
                        continue
                    with open(os.path.join(folder, name), errors="replace") as f:
                        self.assertNotIn(token, f.read(), os.path.join(folder, name))

    def test_an_unset_variable_is_a_spec_error(self):
        with Workdir() as w:
            code, out, _ = w.run({"name": "unset", "url": "http://127.0.0.1:1",
                                  "backend": "external",
                                  "headers": {"Authorization": "Bearer ${STREAMCHECK_UNSET_VARIABLE}"}},
                                 "--cases", "chat.status")
            self.assertEqual(code, 2, out)
            self.assertIn("STREAMCHECK_UNSET_VARIABLE", out)


class ContentCodingTest(unittest.TestCase):
    """A FastAPI + httpx proxy written the plain way relays the backend's gzip
    body with its label and passes; one that drops the label fails
    direct.content-coding."""

    def proxy(self, w, name, strip):
        mock_port, port = free_port(), free_port()
        cmd = ["/usr/bin/python3", os.path.join(HERE, "servers", "httpx_proxy.py"),
               "--port", str(port), "--backend", "http://127.0.0.1:%d" % mock_port]
        if strip:
            cmd.append("--strip-content-encoding")
        w.processes.start(name, cmd)
        wait_until(name + " answers", lambda: answers("http://127.0.0.1:%d/ping" % port))
        return {"name": name, "url": "http://127.0.0.1:%d" % port,
                "mock": {"listen": "127.0.0.1:%d" % mock_port, "config": {"compress": "gzip"}},
                "features": ["direct_access"], "backend_timeout_s": 5}

    def test_plain_httpx_proxy_passes_every_must_case_against_a_gzip_backend(self):
        with Workdir() as w:
            code, out, results = w.run(self.proxy(w, "httpx-plain", strip=False),
                                       "--cases", "direct.*,server.ready", "--size-mb", "16")
            musts = {c: r for c, r in results.items() if r.get("level") == "MUST"}
            self.assertIn("direct.content-coding", musts, out)
            self.assertEqual(not_passed(musts, ("memory",) + SPEC_SKIPS), {}, out)

    def test_a_proxy_that_drops_content_encoding_fails(self):
        with Workdir() as w:
            code, out, results = w.run(self.proxy(w, "httpx-strip", strip=True),
                                       "--cases", "direct.content-coding")
            self.assertEqual(outcomes(results), {"direct.content-coding": "fail"}, out)
            self.assertIn("no Content-Encoding", json.dumps(results))
            self.assertEqual(code, 1, out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
