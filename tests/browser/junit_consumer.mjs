// Reads a JUnit file with junit2json (an npm JUnit consumer) and prints what
// it understood, as JSON on stdout: per suite its name, counts and output,
// per test case its classname, name and results (failure, error, skipped
// with their message and text, system-out). tests/ci_gate_test.py checks it.
// Usage: node tests/browser/junit_consumer.mjs junit.xml
import { readFile } from 'node:fs/promises';
import { parse } from 'junit2json';

const file = process.argv[2];
if (!file) {
  console.error('usage: junit_consumer.mjs junit.xml');
  process.exit(2);
}
const parsed = await parse(await readFile(file, 'utf8'));
const text = (list) => (list ?? []).map((x) => (typeof x === 'string' ? x : x.inner ?? '')).join('');
const results = (list) => (list ?? []).map((x) => ({
  message: x.message ?? '', type: x.type ?? '', inner: x.inner ?? '',
}));
const suites = (parsed.testsuite ?? []).map((s) => ({
  name: s.name,
  tests: s.tests,
  failures: s.failures,
  errors: s.errors,
  skipped: s.skipped,
  systemOut: text(s['system-out']),
  testcases: (s.testcase ?? []).map((c) => ({
    classname: c.classname,
    name: c.name,
    failure: results(c.failure),
    error: results(c.error),
    skipped: results(c.skipped),
    systemOut: text(c['system-out']),
  })),
}));
console.log(JSON.stringify({ tests: parsed.tests, failures: parsed.failures, suites }, null, 2));
