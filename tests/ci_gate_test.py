#!/usr/bin/python3
"""streamcheck as a CI gate, end to end, with real consumers of its output.

Runs the built `streamcheck` against targets with known defects (the test-only
tests/fixtures/defective_server, one defect each, as any user's spec would
start it) from a folder of its own, and reads what it wrote the way CI
systems do:

- junit.xml with junitparser (Debian's python3-junitparser), with junit2json
  (npm, tests/browser/junit_consumer.mjs) and with xmllint against the schema
  Jenkins' xunit plugin reads with (tests/reports/jenkins-junit.xsd) and the
  project's stricter one;
- --strict, --expect (a YAML baseline) and `report --compare` by their exit
  codes and what they print;
- scripts/run from another folder (paths stay the caller's);
- the console on a real terminal (a pty): the live status line and colour,
  NO_COLOR; and a crashed target's log tail printed once;
- `cmake --install` into a fresh prefix, used from another folder.

Usage: tests/ci_gate_test.py --bin build/dev/bin/streamcheck --build build/dev
(ctest passes both). Needs /usr/bin/python3 with junitparser, xmllint, node
with tests/browser/node_modules (npm ci), cmake. Missing tools fail the test.
"""

import argparse
import json
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ARGS = None

try:
    import junitparser
except ImportError:  # a missing consumer is a failure, never a skip
    junitparser = None


def run(cmd, cwd, env=None, timeout=300):
    """Runs cmd, returning (exit code, stdout + stderr)."""
    full_env = dict(os.environ)
    full_env.pop("STREAMCHECK_ROOT", None)
    full_env.update(env or {})
    p = subprocess.run(cmd, cwd=cwd, env=full_env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=timeout, text=True)
    return p.returncode, p.stdout


def write_spec(folder, name, defect):
    bin_dir = os.path.dirname(os.path.abspath(ARGS.bin))
    spec = {
        "name": name,
        "command": [os.path.join(bin_dir, "defective_server"), "--port", "{port}",
                    "--backend", "{backend_url}", "--defect", defect,
                    "--backend-headers-timeout-ms", "3000"],
        "ready_path": "/ping",
        "backend_timeout_s": 3,
        "features": ["chat", "direct_access"],
    }
    path = os.path.join(folder, name + ".json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


class Workdir:
    """A fresh folder per test, removed afterwards unless the test failed."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="ci_gate_test-")
        return self.path

    def __exit__(self, kind, value, tb):
        if kind is None:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            print("kept", self.path, file=sys.stderr)


# Two targets with different defects: one fails a MUST case, one misses a
# SHOULD case; the rest of the selected cases pass on both.
CASES = "chat.status,chat.done-terminator,chat.no-cache"


def two_target_run(folder, *extra):
    a = write_spec(folder, "bad-done", "chat-done-terminator")
    b = write_spec(folder, "bad-cache", "chat-no-cache")
    return run([os.path.abspath(ARGS.bin), "run", "--target", "./bad-done.json", "--target",
                "./bad-cache.json", "--cases", CASES, *extra], cwd=folder)


class JunitConsumersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="ci_gate_junit-")
        cls.code, cls.out = two_target_run(cls.dir, "--report-dir", "out")
        cls.junit = os.path.join(cls.dir, "out", "junit.xml")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def test_run_fails_on_the_must_failure_only(self):
        self.assertEqual(self.code, 1, self.out)
        self.assertIn("1 SHOULD miss (warn)", self.out)

    def test_validates_against_the_jenkins_xunit_schema_and_the_projects(self):
        for schema in ("jenkins-junit.xsd", "junit.xsd"):
            code, out = run(["xmllint", "--noout", "--schema",
                             os.path.join(ROOT, "tests", "reports", schema), self.junit],
                            cwd=self.dir)
            self.assertEqual(code, 0, schema + ": " + out)

    def test_the_jenkins_schema_rejects_what_jenkins_rejects(self):
        # The shape of the old file: <properties> inside a testcase.
        bad = os.path.join(self.dir, "old.xml")
        with open(bad, "w") as f:
            f.write('<testsuites><testsuite name="cpp" tests="1" failures="0" errors="0">'
                    '<testcase classname="direct" name="direct.incremental" time="0.1">'
                    '<properties><property name="level" value="MUST"/></properties>'
                    '</testcase></testsuite></testsuites>')
        code, out = run(["xmllint", "--noout", "--schema",
                         os.path.join(ROOT, "tests", "reports", "jenkins-junit.xsd"), bad],
                        cwd=self.dir)
        self.assertEqual(code, 3, out)
        self.assertIn("properties", out)

    def test_junitparser_names_target_area_and_case_and_shows_the_should_miss(self):
        self.assertIsNotNone(junitparser, "install python3-junitparser (scripts/bootstrap)")
        xml = junitparser.JUnitXml.fromfile(self.junit)
        suites = {s.name: s for s in xml}
        self.assertEqual(sorted(suites), ["bad-cache", "bad-done"])
        failures = []
        for name, suite in suites.items():
            self.assertEqual(suite.tests, 3)
            for case in suite:
                self.assertEqual(case.classname, name + ".chat")
                self.assertIn(case.name, CASES.split(","))
                for result in case.result:
                    if isinstance(result, junitparser.Failure):
                        failures.append((name, case.name, result.message, result.text))
        self.assertEqual(len(failures), 1, failures)
        target, case_id, message, text = failures[0]
        self.assertEqual((target, case_id), ("bad-done", "chat.done-terminator"))
        self.assertIn("bad-done", message)
        self.assertIn("chat.done-terminator", message)
        self.assertNotIn("\n", message)
        self.assertIn("[DONE]", message)
        self.assertIn("reproduce:", text)
        self.assertIn("streamcheck run --target", text)
        miss = [c for c in suites["bad-cache"] if c.name == "chat.no-cache"][0]
        self.assertEqual(miss.result, [], "a SHOULD miss is not a failure without --strict")
        self.assertIn("SHOULD MISS", miss.system_out)
        self.assertIn("Cache-Control", miss.system_out)
        summary = suites["bad-cache"]._elem.find("system-out").text
        self.assertIn("1 SHOULD miss (warn) (chat.no-cache)", summary)

    def test_junit2json_reads_the_same(self):
        code, out = run(["node", os.path.join(ROOT, "tests", "browser", "junit_consumer.mjs"),
                         self.junit], cwd=self.dir)
        self.assertEqual(code, 0, out)
        parsed = json.loads(out)
        self.assertEqual(parsed["failures"], 1)
        by_suite = {s["name"]: s for s in parsed["suites"]}
        self.assertEqual(sorted(by_suite), ["bad-cache", "bad-done"])
        for name, suite in by_suite.items():
            for case in suite["testcases"]:
                self.assertEqual(case["classname"], name + ".chat")
        done = [c for c in by_suite["bad-done"]["testcases"] if c["name"] == "chat.done-terminator"]
        self.assertEqual(len(done[0]["failure"]), 1)
        self.assertTrue(done[0]["failure"][0]["message"].startswith(
            "MUST chat.done-terminator failed on bad-done: "))
        miss = [c for c in by_suite["bad-cache"]["testcases"] if c["name"] == "chat.no-cache"][0]
        self.assertEqual(miss["failure"], [])
        self.assertIn("SHOULD MISS", miss["systemOut"])

    def test_report_dir_holds_the_logs_and_links_them_relatively(self):
        for name in ("bad-done", "bad-cache"):
            self.assertTrue(os.path.isfile(os.path.join(self.dir, "out", "logs", name + ".log")))
        with open(os.path.join(self.dir, "out", "results.json")) as f:
            results = json.load(f)
        self.assertEqual(sorted(t["log"] for t in results["targets"]),
                         ["logs/bad-cache.log", "logs/bad-done.log"])
        with open(self.junit) as f:
            self.assertIn('<property name="log" value="logs/bad-done.log"/>', f.read())
        with open(os.path.join(self.dir, "out", "report.html")) as f:
            self.assertIn('href="logs/bad-done.log"', f.read())


class GateTest(unittest.TestCase):
    def test_strict_turns_a_should_miss_into_a_failure(self):
        with Workdir() as d:
            write_spec(d, "bad-cache", "chat-no-cache")
            code, out = run([os.path.abspath(ARGS.bin), "run", "--target", "./bad-cache.json",
                             "--cases", "chat.no-cache", "--strict", "--junit", "j.xml"], cwd=d)
            self.assertEqual(code, 1, out)
            xml = junitparser.JUnitXml.fromfile(os.path.join(d, "j.xml"))
            case = [c for s in xml for c in s][0]
            self.assertEqual(len(case.result), 1)
            self.assertIsInstance(case.result[0], junitparser.Failure)
            self.assertEqual(case.result[0].type, "SHOULD (--strict)")
            code, out = run([os.path.abspath(ARGS.bin), "run", "--target", "./bad-cache.json",
                             "--cases", "chat.no-cache"], cwd=d)
            self.assertEqual(code, 0, out)

    def test_expect_accepts_a_listed_failure_and_says_when_one_now_passes(self):
        with Workdir() as d:
            write_spec(d, "bad-done", "chat-done-terminator")
            with open(os.path.join(d, "expect.yaml"), "w") as f:
                f.write("bad-done:\n"
                        "  chat.done-terminator: {outcome: fail, reason: \"drops [DONE] until v2\"}\n"
                        "  chat.status: fail   # fixed meanwhile\n")
            cmd = [os.path.abspath(ARGS.bin), "run", "--target", "./bad-done.json", "--cases",
                   "chat.status,chat.done-terminator", "--expect", "expect.yaml", "--junit",
                   "j.xml"]
            code, out = run(cmd, cwd=d)
            self.assertEqual(code, 0, out)
            self.assertIn("known fail, accepted by expect.yaml: drops [DONE] until v2", out)
            self.assertIn("now passes: remove it from expect.yaml", out)
            xml = junitparser.JUnitXml.fromfile(os.path.join(d, "j.xml"))
            by_name = {c.name: c for s in xml for c in s}
            accepted = by_name["chat.done-terminator"].result
            self.assertEqual(len(accepted), 1)
            self.assertIsInstance(accepted[0], junitparser.Skipped)
            self.assertIn("accepted by expect.yaml", accepted[0].message)
            code, out = run(cmd + ["--strict"], cwd=d)
            self.assertEqual(code, 1, out)
            # Without the baseline the failure fails the run.
            code, out = run(cmd[:6], cwd=d)
            self.assertEqual(code, 1, out)

    def test_a_baseline_with_an_unknown_case_is_refused_before_anything_runs(self):
        with Workdir() as d:
            with open(os.path.join(d, "e.json"), "w") as f:
                f.write('{"cpp": {"chat.nocache": "warn"}}')
            code, out = run([os.path.abspath(ARGS.bin), "run", "--expect", "e.json"], cwd=d)
            self.assertEqual(code, 2, out)
            self.assertIn("chat.nocache: no such case", out)
            self.assertNotIn("starting target", out)

    def test_report_compare_prints_the_differences_and_fails_on_a_regression(self):
        with Workdir() as d:
            code, out = two_target_run(d, "--json", "both.json")
            self.assertEqual(code, 1, out)
            bin_ = os.path.abspath(ARGS.bin)
            code, out = run([bin_, "report", "both.json", "--compare-targets", "bad-done",
                             "bad-cache"], cwd=d)
            self.assertEqual(code, 1, out)  # chat.no-cache got worse
            self.assertRegex(out, r"chat\.done-terminator +MUST +fail -> pass +better")
            self.assertRegex(out, r"chat\.no-cache +SHOULD +pass -> warn +REGRESSION")
            code, out = run([bin_, "report", "both.json", "--compare-targets", "bad-cache",
                             "bad-done", "--metric-threshold", "off"], cwd=d)
            self.assertEqual(code, 1, out)  # chat.done-terminator got worse
            code, out = run([bin_, "report", "--compare", "both.json", "both.json"], cwd=d)
            self.assertEqual(code, 0, out)
            self.assertIn("outcome changes: 0", out)


class ScriptsRunTest(unittest.TestCase):
    def test_scripts_run_keeps_the_callers_folder(self):
        # scripts/run in a stand-in project whose bootstrap and build do
        # nothing and whose "streamcheck" records where it ran and with what.
        with Workdir() as d:
            fake = os.path.join(d, "project")
            os.makedirs(os.path.join(fake, "scripts"))
            os.makedirs(os.path.join(fake, "build", "dev", "bin"))
            shutil.copy(os.path.join(ROOT, "scripts", "run"), os.path.join(fake, "scripts"))
            for stub in ("bootstrap", "build"):
                with open(os.path.join(fake, "scripts", stub), "w") as f:
                    f.write("#!/usr/bin/env bash\nexit 0\n")
            with open(os.path.join(fake, "build", "dev", "bin", "streamcheck"), "w") as f:
                f.write('#!/usr/bin/env bash\npwd\nprintf "%s\\n" "$@"\n')
            for p in ("scripts/run", "scripts/bootstrap", "scripts/build",
                      "build/dev/bin/streamcheck"):
                os.chmod(os.path.join(fake, p), 0o755)
            caller = os.path.join(d, "caller")
            os.makedirs(caller)
            code, out = run([os.path.join(fake, "scripts", "run"), "--target", "./spec.json",
                             "--report-dir", "out/"], cwd=caller)
            self.assertEqual(code, 0, out)
            self.assertEqual(out.split("\n")[:5],
                             [os.path.realpath(caller), "run", "--target", "./spec.json",
                              "--report-dir"])


def read_pty(cmd, env, timeout=120):
    """Runs cmd on a pseudo-terminal; returns (exit code, everything it printed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(tempfile.gettempdir())
        full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR",)}
        full_env.update(env)
        os.execve(cmd[0], cmd, full_env)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        data += chunk
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), data.decode("utf-8", "replace")


class TerminalTest(unittest.TestCase):
    def test_a_live_status_line_and_colour_on_a_terminal(self):
        # direct.stall-survives takes 5 s: the status line is redrawn meanwhile.
        cmd = [os.path.abspath(ARGS.bin), "run", "--cases", "direct.stall-survives",
               "--log-dir", tempfile.mkdtemp(prefix="ci_gate_pty-")]
        code, out = read_pty(cmd, {"STREAMCHECK_ROOT": ROOT})
        self.assertEqual(code, 0, out)
        self.assertRegex(out, r"\r\x1b\[2K(\x1b\[2m)?running direct\.stall-survives [0-9]+ s")
        self.assertIn("\x1b[32mPASS", out)
        self.assertGreaterEqual(out.count("running direct.stall-survives"), 5)
        code, out = read_pty(cmd, {"STREAMCHECK_ROOT": ROOT, "NO_COLOR": "1"})
        self.assertEqual(code, 0, out)
        self.assertNotIn("\x1b[32m", out)
        self.assertIn("running direct.stall-survives", out)

    def test_off_a_terminal_no_escape_codes(self):
        code, out = run([os.path.abspath(ARGS.bin), "run", "--cases", "server.ready",
                         "--log-dir", tempfile.mkdtemp(prefix="ci_gate_pipe-")], cwd=ROOT,
                        env={"STREAMCHECK_ROOT": ROOT})
        self.assertEqual(code, 0, out)
        self.assertNotIn("\x1b", out)
        self.assertNotIn("\r", out)

    def test_a_crashed_targets_log_tail_is_printed_once(self):
        with Workdir() as d:
            write_spec(d, "crashes", "server-survives-exit")
            code, out = run([os.path.abspath(ARGS.bin), "run", "--target", "./crashes.json",
                             "--cases", "chat.status,chat.done-terminator,server.survives"],
                            cwd=d)
            self.assertNotEqual(code, 0, out)
            # Whether the engine notices the exit after chat.status (an error with
            # the tail) or only server.survives does (a failure with it), the
            # tail is printed once.
            self.assertEqual(out.count("last log lines:\n"), 1, out)
            self.assertEqual(out.count("defective_server: listening"), 1, out)


class InstallTest(unittest.TestCase):
    def test_cmake_install_gives_a_working_streamcheck(self):
        with Workdir() as d:
            prefix = os.path.join(d, "prefix")
            code, out = run(["cmake", "--install", os.path.abspath(ARGS.build), "--prefix",
                             prefix], cwd=d)
            self.assertEqual(code, 0, out)
            exe = os.path.join(prefix, "bin", "streamcheck")
            for path in ("share/streamcheck/targets/flask.json",
                         "share/streamcheck/targets/fastapi/app.py",
                         "share/streamcheck/targets/flask/app.py",
                         "share/man/man1/streamcheck.1"):
                self.assertTrue(os.path.isfile(os.path.join(prefix, path)), path)
            code, out = run([exe, "--version"], cwd=d)
            self.assertEqual(code, 0, out)
            self.assertRegex(out, r"^streamcheck [0-9]+\.[0-9]+\.[0-9]+ \(git [0-9a-f]{7,}")
            with open(os.path.join(prefix, "share/man/man1/streamcheck.1")) as f:
                man = f.read()
            self.assertIn(".TH STREAMCHECK", man)
            self.assertIn("strict", man)
            # From another folder, without the source tree: the installed specs.
            code, out = run([exe, "run", "--target", "cpp", "--target", "fastapi", "--cases",
                             "chat.status", "-q"], cwd=d)
            self.assertEqual(code, 0, out)
            self.assertIn("2 results on 2 target(s): 2 pass", out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    parser.add_argument("--build", required=True)
    ARGS, rest = parser.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)
