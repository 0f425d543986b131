#!/usr/bin/python3
"""Sharded runs and their merge, end to end, with the built `streamcheck`.

- N shard processes of `run` (N = 1, 3, 7, started together) against the
  reference server and a defective one, merged with `report --merge`, give
  exactly the (target, case) pairs of the unsharded run and, for the
  deterministic cases, the same outcomes, with the same exit status.
- The merge refuses (exit 2, naming both files) a shard given twice, another
  catalog and another split; a missing shard is listed and is not green; the
  merged JSON renders again and merges again.
- docs/scale-out/*.yml (what users copy): parsed with python3-yaml, the keys
  streamcheck depends on checked (the shard flags match the matrix, artifact
  names and paths, the merge command), then every shard step and merge step
  run as written, with the project's build scripts and the image's
  `streamcheck` replaced by the binary under test (and a narrower --cases),
  the artifacts moved as each CI system moves them; the merged report must be
  the unsharded run's.

Usage: tests/scale_out_test.py --bin build/dev/bin/streamcheck (ctest passes it).
Needs /usr/bin/python3 with python3-yaml; a missing module fails the test.
"""

import argparse
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

try:
    import yaml
except ImportError:  # a missing parser is a failure, never a skip
    yaml = None

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs", "scale-out")
ARGS = None
TIMEOUT = 600
# Cases whose outcome depends on timing under load (several shard processes
# on two cores): their pairs must match, their outcomes are not compared.
TIMING = {"chat.client-abort", "direct.client-abort", "direct.backpressure",
          "direct.memory-bounded", "chat.concurrent"}
# The YAML files run with these cases only (every target of --target all).
YAML_CASES = "server.ready,chat.status,chat.bad-json,direct.status-passthrough,server.survives"


def env(extra=None):
    e = dict(os.environ)
    e["STREAMCHECK_ROOT"] = ROOT
    e.update(extra or {})
    return e


def run(cmd, cwd, extra_env=None, timeout=TIMEOUT, shell=False):
    p = subprocess.run(cmd, cwd=cwd, env=env(extra_env), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout, text=True, shell=shell)
    return p.returncode, p.stdout, p.stderr


def together(commands, timeout=TIMEOUT):
    """Starts every (cmd, cwd, env) at once; returns their (code, out, err)."""
    procs = [subprocess.Popen(cmd, cwd=cwd, env=env(e), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for cmd, cwd, e in commands]
    results = []
    try:
        for p in procs:
            out, err = p.communicate(timeout=timeout)
            results.append((p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return results


def outcomes(path):
    with open(path) as f:
        doc = json.load(f)
    out = {}
    for r in doc["results"]:
        key = (r["target"], r["case"])
        assert key not in out, f"{path} reports {key} twice"
        out[key] = r["outcome"]
    return out


def load(path):
    with open(path) as f:
        return json.load(f)


def write_defective_spec(folder, defect):
    bin_dir = os.path.dirname(os.path.abspath(ARGS.bin))
    spec = {
        "name": "defective",
        "command": [os.path.join(bin_dir, "defective_server"), "--port", "{port}",
                    "--backend", "{backend_url}", "--defect", defect,
                    "--backend-headers-timeout-ms", "3000"],
        "ready_path": "/ping",
        "backend_timeout_s": 3,
        "features": ["chat", "direct_access"],
    }
    path = os.path.join(folder, "defective.json")
    with open(path, "w") as f:
        json.dump(spec, f)
    return path


class Shards(unittest.TestCase):
    """The catalog on two targets, unsharded and as 1, 3 and 7 shards."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="scale_out_test-")
        spec = write_defective_spec(cls.dir, "chat-content-type")
        cls.run_args = [ARGS.bin, "run", "--target", "cpp", "--target", spec,
                        "--size-mb", "8", "-q"]
        cls.whole = os.path.join(cls.dir, "whole.json")
        code, out, err = run(cls.run_args + ["--json", cls.whole], cls.dir)
        cls.whole_code = code
        cls.whole_out = out + err
        cls.shards = {}
        cls.codes = {}
        for n in (1, 3, 7):
            commands = []
            for i in range(n):
                folder = os.path.join(cls.dir, f"n{n}", f"shard-{i}")
                jobs = ["--jobs", "2"] if n == 3 else []
                commands.append((cls.run_args + jobs + ["--shard", f"{i}/{n}",
                                                        "--report-dir", folder],
                                 cls.dir, None))
            cls.codes[n] = together(commands)
            cls.shards[n] = [os.path.join(cls.dir, f"n{n}", f"shard-{i}", "results.json")
                             for i in range(n)]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.assertIn(self.whole_code, (0, 1), self.whole_out[-2000:])

    def merge(self, files, *extra):
        return run([ARGS.bin, "report", "--merge", *files, *extra], self.dir)

    def assertSameRun(self, merged_path, reference=None):
        want = outcomes(reference or self.whole)
        got = outcomes(merged_path)
        self.assertEqual(sorted(got), sorted(want), "the merged (target, case) pairs")
        differ = {k: (want[k], got[k]) for k in want if k[1] not in TIMING and want[k] != got[k]}
        self.assertEqual(differ, {}, "outcomes that differ from the unsharded run")

    def test_shards_merged_are_the_unsharded_run(self):
        reference = outcomes(self.whole)
        self.assertIn("fail", reference.values(), "the defective target fails some case")
        self.assertIn("pass", reference.values())
        for n in (1, 3, 7):
            with self.subTest(shards=n):
                for i, (code, out, err) in enumerate(self.codes[n]):
                    self.assertIn(code, (0, 1), f"shard {i}/{n}: {out[-1500:]}{err[-1500:]}")
                    self.assertIn(f"shard {i}/{n}: ", out)
                # Each non-liveness pair on exactly one shard.
                seen = {}
                for path in self.shards[n]:
                    for key in outcomes(path):
                        if key[1] != "server.survives":
                            self.assertNotIn(key, seen, f"{key} on two shards")
                            seen[key] = path
                out_dir = os.path.join(self.dir, f"merged-{n}")
                code, out, err = self.merge(self.shards[n], "--report-dir", out_dir)
                self.assertEqual(code, self.whole_code, out + err)
                self.assertIn(f"merged {n} results file(s): shards of {n}, holding {n} of them",
                              out)
                self.assertNotIn("no shard reported", out)
                merged = os.path.join(out_dir, "results.json")
                self.assertSameRun(merged)
                doc = load(merged)
                self.assertEqual(doc["shard"]["indexes"], list(range(n)))
                self.assertEqual([t["name"] for t in doc["targets"]], ["cpp", "defective"])
                for f in ("junit.xml", "summary.md", "report.html", "logs/cpp.log",
                          "logs/defective.log"):
                    self.assertTrue(os.path.exists(os.path.join(out_dir, f)), f)
                # server.survives from every shard of its target, merged.
                survives = [r for r in doc["results"] if r["case"] == "server.survives"]
                self.assertEqual(len(survives), 2)
                if n > 1:
                    self.assertRegex(survives[0]["evidence"].get("note", ""),
                                     r"judged on \d+ shards")

    def test_the_merged_report_renders_and_merges_again(self):
        out_dir = os.path.join(self.dir, "merged-again")
        code, out, err = self.merge(self.shards[3], "--report-dir", out_dir)
        self.assertEqual(code, self.whole_code, out + err)
        merged = os.path.join(out_dir, "results.json")
        page = os.path.join(self.dir, "again.html")
        rerendered = os.path.join(self.dir, "again.json")
        code2, out2, err2 = run([ARGS.bin, "report", merged, "--html", page,
                                 "--json", rerendered], self.dir)
        self.assertEqual(code2, code, out2 + err2)
        self.assertSameRun(rerendered)
        code3, out3, err3 = self.merge([merged], "--json", os.path.join(self.dir, "m3.json"))
        self.assertEqual(code3, code, out3 + err3)
        self.assertSameRun(os.path.join(self.dir, "m3.json"))

    def test_a_missing_shard_is_listed_and_not_green(self):
        partial = os.path.join(self.dir, "partial.json")
        code, out, err = self.merge(self.shards[3][:2], "--json", partial)
        self.assertIn("missing shards: 2/3", out)
        missing = [k for k in outcomes(self.whole) if k not in outcomes(self.shards[3][0])
                   and k not in outcomes(self.shards[3][1])]
        self.assertTrue(missing)
        self.assertIn(f"{len(missing)} selected (target, case) pairs no shard reported", out)
        errors = {(r["target"], r["case"]): r for r in load(partial)["results"]
                  if r["outcome"] == "error"}
        for key in missing:
            self.assertIn(key, errors)
            self.assertIn("no shard reported this case: shard 2/3 was not merged",
                          errors[key]["message"])
            self.assertEqual(errors[key]["evidence"], {})
        self.assertIn(code, (1, 3), "not green")
        if self.whole_code == 0:
            self.assertEqual(code, 3)
        # The partial merge and the missing shard are the whole run.
        full = os.path.join(self.dir, "full.json")
        code, out, err = self.merge([partial, self.shards[3][2]], "--json", full)
        self.assertEqual(code, self.whole_code, out + err)
        self.assertSameRun(full)

    def test_what_the_merge_refuses(self):
        s = self.shards[3]
        target = os.path.join(self.dir, "refused.json")
        # A shard given twice, under its own name and a copy's.
        code, out, err = self.merge([s[0], s[1], s[2], s[1]], "--json", target)
        self.assertEqual(code, 2, out + err)
        self.assertIn(f"{s[1]} and {s[1]} both hold shard 1/3", err)
        dup = os.path.join(self.dir, "dup.json")
        shutil.copy(s[0], dup)
        code, out, err = self.merge([s[0], dup], "--json", target)
        self.assertEqual(code, 2, out + err)
        self.assertIn(f"{s[0]} and {dup} both hold shard 0/3", err)
        # Another catalog (a case's facts changed).
        other = load(s[2])
        other["catalog"][0]["title"] += " (changed)"
        changed = os.path.join(self.dir, "other-catalog.json")
        with open(changed, "w") as f:
            json.dump(other, f)
        code, out, err = self.merge([s[0], s[1], changed], "--json", target)
        self.assertEqual(code, 2, out + err)
        self.assertIn(f"{s[0]} and {changed} come from different catalogs", err)
        self.assertIn(f"{other['catalog'][0]['id']} differs", err)
        # A shard of another split.
        code, out, err = self.merge([s[0], self.shards[7][1]], "--json", target)
        self.assertEqual(code, 2, out + err)
        self.assertIn("different splits: shard 0/3 and shard 1/7", err)
        # An unsharded run with a shard.
        code, out, err = self.merge([self.whole, s[0]], "--json", target)
        self.assertEqual(code, 2, out + err)
        self.assertFalse(os.path.exists(target), "a refused merge writes nothing")


class Stubs:
    """A folder laid out like a checkout, whose build scripts and `streamcheck`
    are the binary under test; `run` gets --cases YAML_CASES."""

    def __init__(self, parent, name):
        self.path = os.path.join(parent, name)
        os.makedirs(os.path.join(self.path, "scripts"))
        os.makedirs(os.path.join(self.path, "bin"))
        os.makedirs(os.path.join(self.path, "build", "dev", "bin"))
        wrapper = (f'#!/bin/bash\nif [ "$1" = run ]; then shift; exec "{ARGS.bin}" run "$@" '
                   f'--cases "{YAML_CASES}"; fi\nexec "{ARGS.bin}" "$@"\n')
        self.write("bin/streamcheck", wrapper)
        self.write("build/dev/bin/streamcheck", wrapper)
        self.write("scripts/run", f'#!/bin/bash\nexec "{self.path}/bin/streamcheck" run "$@"\n')
        self.write("scripts/bootstrap", "#!/bin/sh\nexit 0\n")
        self.write("scripts/build", "#!/bin/sh\nexit 0\n")

    def write(self, rel, text):
        path = os.path.join(self.path, rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)

    def env(self, extra=None):
        e = {"PATH": os.path.join(self.path, "bin") + ":" + os.environ.get("PATH", "")}
        e.update(extra or {})
        return e


def shard_count(command):
    m = re.search(r"--shard\s+[^\n]*?/(\d+)", command)
    return m.group(1) if m else None


def report_dir(command):
    m = re.search(r"--report-dir\s+(\S+)", command)
    return m.group(1).strip('"') if m else None


class CiFiles(unittest.TestCase):
    """docs/scale-out/*.yml: parsed, checked, and run as written."""

    @classmethod
    def setUpClass(cls):
        if yaml is None:
            raise AssertionError("python3-yaml is missing (scripts/bootstrap installs it)")
        cls.dir = tempfile.mkdtemp(prefix="scale_out_yaml-")
        cls.reference = os.path.join(cls.dir, "unsharded.json")
        code, out, err = run([ARGS.bin, "run", "--target", "all", "--cases", YAML_CASES,
                              "-q", "--json", cls.reference], cls.dir)
        cls.reference_code = code
        assert code in (0, 1), out + err

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def assertSameAsUnsharded(self, merged, code):
        self.assertEqual(code, self.reference_code)
        want, got = outcomes(self.reference), outcomes(merged)
        self.assertEqual(sorted(got), sorted(want))
        self.assertEqual({k: got[k] for k in got if got[k] != want[k]}, {})

    def load(self, name):
        with open(os.path.join(DOCS, name)) as f:
            return f.read()

    def test_the_doc_points_at_every_file(self):
        with open(os.path.join(ROOT, "docs", "scale-out.md")) as f:
            doc = f.read()
        for name in ("github-actions.yml", "gitlab-ci.yml", "kubernetes-shards.yml",
                     "kubernetes-merge.yml", "Dockerfile"):
            self.assertIn(f"(scale-out/{name})", doc, name)
            self.assertTrue(os.path.exists(os.path.join(DOCS, name)), name)

    def test_github_actions(self):
        wf = yaml.safe_load(self.load("github-actions.yml"))
        self.assertTrue(wf.get("on", wf.get(True)), "the workflow has triggers")
        shard, merge = wf["jobs"]["shard"], wf["jobs"]["merge"]
        matrix = shard["strategy"]["matrix"]["shard"]
        self.assertFalse(shard["strategy"]["fail-fast"])
        runs = [s for s in shard["steps"] if "--shard" in s.get("run", "")]
        self.assertEqual(len(runs), 1)
        command = runs[0]["run"]
        self.assertIn("--shard ${{ matrix.shard }}/", command)
        n = int(shard_count(command))
        self.assertEqual(matrix, list(range(n)), "the matrix is shards 0 .. N-1 of --shard I/N")
        out = report_dir(command)
        upload = [s for s in shard["steps"]
                  if s.get("uses", "").startswith("actions/upload-artifact@")]
        self.assertEqual(len(upload), 1)
        self.assertEqual(upload[0]["if"], "always()")
        self.assertEqual(upload[0]["with"]["path"].rstrip("/"), out.rstrip("/"))
        artifact = upload[0]["with"]["name"]
        self.assertIn("${{ matrix.shard }}", artifact, "one artifact per shard")
        self.assertEqual(merge["needs"], "shard")
        self.assertEqual(merge["if"], "always()")
        download = [s for s in merge["steps"]
                    if s.get("uses", "").startswith("actions/download-artifact@")]
        self.assertEqual(len(download), 1)
        pattern, into = download[0]["with"]["pattern"], download[0]["with"]["path"]
        self.assertNotIn("merge-multiple", download[0]["with"], "one folder per artifact")
        names = [artifact.replace("${{ matrix.shard }}", str(i)) for i in matrix]
        for name in names:
            self.assertTrue(fnmatch.fnmatch(name, pattern), f"{pattern} takes {name}")
        merge_runs = [s["run"] for s in merge["steps"] if "--merge" in s.get("run", "")]
        self.assertEqual(len(merge_runs), 1)
        self.assertIn(f"report --merge {into.rstrip('/')}/*/results.json", merge_runs[0])

        # Run it: each shard in a checkout of its own, its artifact moved into
        # the merge job's download folder, then the merge job's steps.
        def steps_after_checkout(job):
            steps = job["steps"]
            at = next(i for i, s in enumerate(steps)
                      if s.get("uses", "").startswith("actions/checkout@"))
            return steps[at + 1:]
        merge_dir = Stubs(self.dir, "gh-merge")
        commands, dirs = [], []
        for i in matrix:
            w = Stubs(self.dir, f"gh-shard-{i}")
            dirs.append(w)
            script = steps_after_checkout(shard)[0]["run"].replace("${{ matrix.shard }}", str(i))
            self.assertNotIn("${{", script)
            commands.append((["bash", "-e", "-c", script], w.path, w.env()))
        for i, (code, out_text, err) in enumerate(together(commands)):
            self.assertIn(code, (0, 1), out_text + err)
            shutil.copytree(os.path.join(dirs[i].path, out_dir_of(upload[0])),
                            os.path.join(merge_dir.path, into, names[i]))
        summary = os.path.join(self.dir, "step-summary.md")
        code = None
        for step in steps_after_checkout(merge):
            if "run" not in step:
                continue
            self.assertNotIn("${{", step["run"])
            c, out, err = run(["bash", "-e", "-c", step["run"]], merge_dir.path,
                              merge_dir.env({"GITHUB_STEP_SUMMARY": summary}))
            if "--merge" in step["run"]:
                code = c
        merged = os.path.join(merge_dir.path, report_dir(merge_runs[0]), "results.json")
        self.assertSameAsUnsharded(merged, code)
        with open(summary) as f:
            self.assertIn("Merged from shards 0/4, 1/4, 2/4, 3/4 (every shard)", f.read())

    def test_gitlab_ci(self):
        gl = yaml.safe_load(self.load("gitlab-ci.yml"))
        job, merge = gl["streamcheck"], gl["streamcheck-merge"]
        n = job["parallel"]
        lines = [l for l in job["script"] if "--shard" in l]
        self.assertEqual(len(lines), 1)
        self.assertIn('--shard "$((CI_NODE_INDEX - 1))/$CI_NODE_TOTAL"', lines[0])
        out = report_dir(lines[0])
        self.assertIn("$CI_NODE_INDEX", out, "one report folder per job")
        self.assertEqual(job["artifacts"]["when"], "always")
        kept = job["artifacts"]["paths"]
        self.assertTrue(any(out.startswith(p.rstrip("/")) for p in kept), kept)
        self.assertGreater(gl["stages"].index(merge["stage"]), gl["stages"].index(job["stage"]))
        self.assertEqual(merge["when"], "always")
        merge_lines = [l for l in merge["script"] if "--merge" in l]
        self.assertEqual(len(merge_lines), 1)
        prefix = out.split("$CI_NODE_INDEX")[0].strip('"')
        self.assertIn(f"report --merge {prefix}*/results.json", merge_lines[0])
        self.assertEqual(merge["artifacts"]["reports"]["junit"],
                         os.path.join(report_dir(merge_lines[0]).rstrip("/"), "junit.xml"))

        merge_dir = Stubs(self.dir, "gl-merge")
        commands, dirs = [], []
        for i in range(1, n + 1):
            w = Stubs(self.dir, f"gl-job-{i}")
            dirs.append(w)
            script = "\n".join(job["script"])
            commands.append((["bash", "-e", "-c", script], w.path,
                             w.env({"CI_NODE_INDEX": str(i), "CI_NODE_TOTAL": str(n)})))
        for i, (code, out_text, err) in enumerate(together(commands)):
            self.assertIn(code, (0, 1), out_text + err)
            for p in kept:  # artifacts of earlier stages land in the checkout
                shutil.copytree(os.path.join(dirs[i].path, p), os.path.join(merge_dir.path, p),
                                dirs_exist_ok=True)
        code, out_text, err = run(["bash", "-e", "-c", "\n".join(merge["script"])],
                                  merge_dir.path, merge_dir.env())
        merged = os.path.join(merge_dir.path, report_dir(merge_lines[0]), "results.json")
        self.assertSameAsUnsharded(merged, code)
        self.assertTrue(os.path.exists(os.path.join(merge_dir.path,
                                                    merge["artifacts"]["reports"]["junit"])))

    def test_kubernetes(self):
        pvc, job = list(yaml.safe_load_all(self.load("kubernetes-shards.yml")))
        merge = yaml.safe_load(self.load("kubernetes-merge.yml"))
        self.assertEqual(pvc["kind"], "PersistentVolumeClaim")
        self.assertEqual(job["kind"], "Job")
        self.assertEqual(merge["kind"], "Job")
        spec = job["spec"]
        self.assertEqual(spec["completionMode"], "Indexed")
        n = spec["completions"]
        self.assertEqual(spec["parallelism"], n)
        pod = spec["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        container = pod["containers"][0]
        self.assertEqual(container["command"], ["/bin/sh", "-c"])
        script = container["args"][0]
        self.assertIn(f'--shard "$JOB_COMPLETION_INDEX/{n}"', script)
        mount = container["volumeMounts"][0]
        volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
        self.assertEqual(volume["persistentVolumeClaim"]["claimName"], pvc["metadata"]["name"])
        self.assertIn(f'out="{mount["mountPath"]}/shard-$JOB_COMPLETION_INDEX"', script)
        self.assertIn('--report-dir "$out"', script)
        mpod = merge["spec"]["template"]["spec"]
        mcontainer = mpod["containers"][0]
        mmount = mcontainer["volumeMounts"][0]
        mvolume = next(v for v in mpod["volumes"] if v["name"] == mmount["name"])
        self.assertEqual(mvolume["persistentVolumeClaim"]["claimName"], pvc["metadata"]["name"])
        self.assertEqual(mmount["mountPath"], mount["mountPath"])
        mscript = mcontainer["args"][0]
        self.assertEqual(container["image"], mcontainer["image"])
        self.assertIn(f"report --merge {mount['mountPath']}/shard-*/results.json", mscript)

        # Run it: the volume is a folder, `streamcheck` on the image's PATH the binary under test.
        volume_dir = os.path.join(self.dir, "k8s-volume")
        os.makedirs(volume_dir)
        w = Stubs(self.dir, "k8s")
        as_run = lambda s: s.replace(mount["mountPath"] + "/", volume_dir + "/")
        commands = [(["/bin/sh", "-c", as_run(script)], w.path,
                     w.env({"JOB_COMPLETION_INDEX": str(i)})) for i in range(n)]
        for i, (code, out_text, err) in enumerate(together(commands)):
            self.assertEqual(code, 0, "the pod succeeds whatever the verdict: " + out_text + err)
            with open(os.path.join(volume_dir, f"shard-{i}", "exit-code")) as f:
                self.assertIn(f.read().strip(), ("0", "1"))
        code, out_text, err = run(["/bin/sh", "-c", as_run(mscript)], w.path, w.env())
        self.assertIn("## streamcheck:", out_text, "the summary in the pod's log")
        self.assertSameAsUnsharded(os.path.join(volume_dir, "merged", "results.json"), code)


def out_dir_of(upload_step):
    return upload_step["with"]["path"].rstrip("/")


def main():
    global ARGS
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    ARGS, rest = parser.parse_known_args()
    ARGS.bin = os.path.abspath(ARGS.bin)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


if __name__ == "__main__":
    main()
