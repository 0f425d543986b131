// Opens streamcheck's HTML report in a real browser (Debian's headless
// Chromium, driven by playwright-core) and checks what a person would see:
// the cases x targets matrix, coloured outcomes, a cell's evidence in the side
// panel, the timelines, that hostile server text stays text, and that the page
// is self-contained (no request but file://, no console error).
//
// Pages: a real report (`streamcheck run` against two targets, the built-in
// cpp and a second spec written here), a crafted results JSON rendered with
// `streamcheck report` (a MUST failure whose message holds markup, a buffering
// timeline next to a streaming one, every outcome), and that report widened to
// four targets, to check that the open panel leaves the selected cell in view.
//
// Usage: node tests/browser/report_test.mjs [path/to/streamcheck] [--out DIR]
//   the binary may also come from $STREAMCHECK_BIN; screenshots go to DIR
//   (default: a new folder in $TMPDIR), and their paths are printed.
// Needs: `npm ci --prefix tests/browser` and /usr/bin/chromium
//   (`scripts/bootstrap --with-browser` installs both).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Without the background-networking flags Chromium reaches out to Google's
// services at start, which a closed network refuses (and logs as errors).
const chromiumArgs = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const kTimeoutMs = 15000;  // every browser wait is bounded by this

// --- arguments and prerequisites: fail loudly, never skip --------------------

function usageError(message) {
  console.error(`report_test: ${message}`);
  process.exit(1);
}

let binArg = process.env.STREAMCHECK_BIN || '';
let outArg = '';
for (let i = 2; i < process.argv.length; ++i) {
  if (process.argv[i] === '--out') outArg = process.argv[++i] || '';
  else binArg = process.argv[i];
}
if (!binArg) {
  usageError('name the streamcheck binary: report_test.mjs path/to/streamcheck (or $STREAMCHECK_BIN)');
}
const bin = path.resolve(binArg);
if (!existsSync(bin)) usageError(`no streamcheck binary at ${bin}`);
if (!existsSync(chromiumPath)) {
  usageError(`no Chromium at ${chromiumPath}: run scripts/bootstrap --with-browser ` +
             '(it installs Debian\'s chromium package)');
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  usageError(`cannot load playwright-core (${e.code || e.message}): run ` +
             '`npm ci --prefix tests/browser` (or scripts/bootstrap --with-browser) first');
}

// --- helpers -----------------------------------------------------------------

function runStreamcheck(args, { okCodes }) {
  return new Promise((resolve, reject) => {
    execFile(bin, args, {
      env: { ...process.env, STREAMCHECK_ROOT: root },
      timeout: 120000,
      maxBuffer: 16 * 1024 * 1024,
    }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (!okCodes.includes(code)) {
        reject(new Error(`streamcheck ${args.join(' ')} exited ${code} ` +
                         `(${error?.signal || 'no signal'}), expected ${okCodes.join(' or ')}\n` +
                         `--- stdout\n${stdout}\n--- stderr\n${stderr}`));
      } else {
        resolve({ code, stdout, stderr });
      }
    });
  });
}

// The word a matrix cell shows (reports/html_report.cc CellWord).
function cellWord(r) {
  return r.outcome === 'fail' && r.level === 'MUST' ? 'FAIL' : r.outcome;
}

// Everything the page does that a self-contained report must not: requests
// other than file://, console errors, uncaught exceptions, dialogs.
function watch(page) {
  const seen = { requests: [], consoleErrors: [], pageErrors: [], dialogs: [] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') seen.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => seen.pageErrors.push(String(e)));
  page.on('dialog', async (d) => {
    seen.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  return seen;
}

function assertQuiet(seen) {
  assert.deepEqual(seen.requests.filter((u) => !u.startsWith('file://')), [],
                   'the page made a request that is not file://');
  assert.deepEqual(seen.consoleErrors, [], 'console errors');
  assert.deepEqual(seen.pageErrors, [], 'uncaught page errors');
  assert.deepEqual(seen.dialogs, [], 'a dialog fired: text from a server ran as script');
}

// The matrix as the browser shows it: columns, and one row per case with its
// level label and, per column, the cell's classes and visible text.
async function readMatrix(page) {
  return page.evaluate(() => {
    const table = document.querySelector('table.matrix');
    const targets = [...table.querySelectorAll('thead th.target')].map((th) => th.textContent);
    const areas = [...table.querySelectorAll('tbody tr.area th')].map((th) => th.textContent);
    const rows = [...table.querySelectorAll('tbody tr:not(.area)')].map((tr) => {
      const level = tr.querySelector('td.lvl');
      return {
        id: tr.querySelector('th.case code').textContent,
        level: level.textContent,
        levelClass: level.className,
        cells: [...tr.querySelectorAll('td.cell')].map((td) => ({
          className: td.className,
          text: td.innerText.trim(),
          visible: td.getBoundingClientRect().height > 0,
          background: getComputedStyle(td).backgroundColor,
        })),
      };
    });
    return { targets, areas, rows };
  });
}

// Checks the matrix against the results it was rendered from.
function assertMatrix(matrix, results, targets) {
  assert.deepEqual(matrix.targets, targets, 'one column per target, in order');
  const caseIds = [...new Set(results.map((r) => r.case))];
  assert.deepEqual([...matrix.rows.map((r) => r.id)].sort(), [...caseIds].sort(),
                   'one row per case');
  assert.deepEqual([...new Set(matrix.areas)].sort(),
                   [...new Set(results.map((r) => r.area || r.case.split('.')[0]))].sort(),
                   'one heading row per area');
  for (const row of matrix.rows) {
    const mine = results.filter((r) => r.case === row.id);
    assert.match(row.level, /^(MUST|SHOULD|INFO)$/, `${row.id}: level label`);
    assert.equal(row.level, mine[0].level, `${row.id}: level label matches the results`);
    assert.ok(row.levelClass.includes(`l-${row.level}`), `${row.id}: level is styled`);
    assert.equal(row.cells.length, targets.length, `${row.id}: one cell per target`);
    targets.forEach((target, t) => {
      const r = mine.find((x) => x.target === target);
      const cell = row.cells[t];
      assert.ok(cell.visible, `${row.id} on ${target}: cell is visible`);
      if (!r) {
        assert.ok(cell.className.includes('o-none'), `${row.id} on ${target}: empty cell`);
        return;
      }
      assert.ok(cell.className.includes(`o-${r.outcome}`),
                `${row.id} on ${target}: class o-${r.outcome}, got "${cell.className}"`);
      assert.equal(cell.text.split('\n')[0], cellWord(r), `${row.id} on ${target}: cell text`);
      assert.notEqual(cell.background, 'rgba(0, 0, 0, 0)', `${row.id} on ${target}: coloured`);
    });
  }
}

// The matrix cell (its link) for one case on one target.
function cellLink(page, caseId, targetIndex) {
  return page.locator('table.matrix tbody tr', {
    has: page.locator('th.case code', { hasText: new RegExp(`^${caseId.replace(/\./g, '\\.')}$`) }),
  }).locator('td.cell').nth(targetIndex).locator('a');
}

// Opens a cell's evidence panel by clicking, and returns what it shows.
async function openEvidence(page, caseId, targetIndex) {
  const link = cellLink(page, caseId, targetIndex);
  await link.click({ timeout: kTimeoutMs });
  const panel = page.locator('#panel');
  await panel.waitFor({ state: 'visible', timeout: kTimeoutMs });
  await page.locator('#panel article.ev').waitFor({ state: 'visible', timeout: kTimeoutMs });
  const selected = await link.evaluate((a) => a.closest('td').classList.contains('selected'));
  assert.ok(selected, `${caseId}: the clicked cell is marked selected`);
  return page.evaluate(() => {
    const panel = document.getElementById('panel');
    const article = panel.querySelector('article.ev');
    const section = (heading) => {
      const h4 = [...article.querySelectorAll('h4')].find((h) => h.textContent === heading);
      return h4 ? h4.nextElementSibling : null;
    };
    const facts = {};
    const dts = article.querySelectorAll('dl.facts dt');
    for (const dt of dts) facts[dt.textContent] = dt.nextElementSibling.textContent;
    // The first exchange: its request line, facts, headers and events.
    const exchange = article.querySelector('section.exchange');
    const sub = (heading) => {
      if (!exchange) return null;
      const h5 = [...exchange.querySelectorAll('h5')].find((h) => h.textContent === heading);
      return h5 ? h5.nextElementSibling : null;
    };
    const rows = (table) => (table
      ? [...table.querySelectorAll('tr')].map((tr) => [...tr.cells].map((c) => c.textContent))
      : []);
    const headers = sub('Response headers');
    return {
      heading: article.querySelector('h3').textContent,
      facts,
      exchangeFacts: Object.fromEntries(rows(exchange?.querySelector('table.facts'))),
      headings: [...article.querySelectorAll('h4')].map((h) => h.textContent),
      request: exchange?.querySelector('code.request')?.textContent ?? null,
      message: article.querySelector('pre.msg')?.textContent ?? null,
      headers: rows(headers),
      headerElements: headers ? headers.querySelectorAll('td *').length : 0,
      lastEvents: [...(sub('Last events')?.querySelectorAll('li pre') ?? [])]
        .map((p) => p.textContent),
      chartLines: [...panel.querySelectorAll('svg.timeline polyline')]
        .map((p) => p.querySelector('title').textContent),
    };
  });
}

async function closePanel(page, how) {
  if (how === 'escape') await page.keyboard.press('Escape');
  else await page.locator('#panel-close').click({ timeout: kTimeoutMs });
  await page.locator('#panel').waitFor({ state: 'hidden', timeout: kTimeoutMs });
  assert.equal(await page.locator('td.cell.selected').count(), 0, 'selection cleared on close');
}

// Each chart: its case, whether it is folded away (#timelines-more), its tick
// labels and, per polyline, the target and its points mapped to (fraction of
// the time axis, fraction of the value axis), read from the SVG's own axes so
// the test does not hard-code the layout.
async function readCharts(page, scope = '#timelines') {
  return page.evaluate((scopeSelector) => {
    return [...document.querySelectorAll(`${scopeSelector} svg.timeline`)].map((svg) => {
      const [xAxis, yAxis] = svg.querySelectorAll('line.axis');
      const left = +xAxis.getAttribute('x1'), right = +xAxis.getAttribute('x2');
      const bottom = +xAxis.getAttribute('y1'), top = +yAxis.getAttribute('y1');
      const figure = svg.closest('figure');
      return {
        caseId: figure ? figure.querySelector('figcaption code').textContent : null,
        folded: svg.closest('#timelines-more') !== null,
        look: figure?.querySelector('figcaption .look')?.textContent ?? '',
        // A closed <details> skips its content's rendering, yet still lays it out.
        rendered: svg.getBoundingClientRect().width > 0 && svg.checkVisibility(),
        xTicks: [...svg.querySelectorAll('text.tick.x')].map((t) => t.textContent),
        yTicks: [...svg.querySelectorAll('text.tick.y')].map((t) => t.textContent),
        lines: [...svg.querySelectorAll('polyline')].map((p) => ({
          target: p.querySelector('title').textContent,
          points: p.getAttribute('points').trim().split(/\s+/).map((xy) => {
            const [x, y] = xy.split(',').map(Number);
            return [(x - left) / (right - left), (bottom - y) / (bottom - top)];
          }),
        })),
      };
    });
  }, scope);
}

// --- the test -----------------------------------------------------------------

describe('HtmlReportBrowser', () => {
  let tmp, outDir, browser;
  let finished = 0;  // tests that got to their end
  const kTests = 4;

  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'streamcheck-browser-'));
    outDir = outArg ? path.resolve(outArg) : path.join(tmp, 'screenshots');
    await mkdir(outDir, { recursive: true });
    browser = await chromium.launch({
      executablePath: chromiumPath, headless: true, args: chromiumArgs, timeout: 60000,
    });
  });

  after(async () => {
    await browser?.close();
    console.log(`report_test: screenshots in ${outDir}`);
    if (finished !== kTests) {
      console.log(`report_test: kept ${tmp} (reports, logs) for a look`);
    } else if (outArg) {
      await rm(tmp, { recursive: true, force: true });  // else the screenshots are in it
    }
  });

  async function newPage(options = {}) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
    const page = await context.newPage();
    page.setDefaultTimeout(kTimeoutMs);
    return { page, seen: watch(page) };
  }

  test('a real two-target run: matrix, evidence panel, timelines, self-contained', async () => {
    const spec = path.join(tmp, 'cpp-second.json');
    await writeFile(spec, JSON.stringify({
      name: 'cpp-second',
      command: ['{bin}/streamcheck', 'serve', '--port', '{port}', '--backend', '{backend_url}'],
      ready_path: '/ping',
      features: ['chat', 'direct_access'],
    }, null, 2));
    const reportDir = path.join(tmp, 'run');
    // 0: every MUST case passed; 1: one failed. Either way the report is whole.
    await runStreamcheck([
      'run', '--target', 'cpp', '--target', spec,
      '--cases', 'server.*,chat.status,chat.done-terminator,chat.incremental,direct.large-get,' +
                 'direct.incremental',
      '--size-mb', '8', '--report-dir', reportDir, '--log-dir', path.join(tmp, 'run-logs'),
    ], { okCodes: [0, 1] });
    const run = JSON.parse(await readFile(path.join(reportDir, 'results.json'), 'utf8'));
    const targets = ['cpp', 'cpp-second'];
    assert.deepEqual(run.targets.map((t) => t.name), targets);

    const { page, seen } = await newPage();
    await page.goto(pathToFileURL(path.join(reportDir, 'report.html')).href);
    await page.locator('table.matrix').waitFor({ state: 'visible' });

    const matrix = await readMatrix(page);
    assertMatrix(matrix, run.results, targets);
    assert.ok(matrix.rows.length >= 8, `at least the 8 selected cases, got ${matrix.rows.length}`);

    // Outcome colours differ (the legend shows each outcome's style).
    const legend = await page.evaluate(() => Object.fromEntries(
      ['pass', 'fail', 'warn', 'skip', 'error'].map((o) => [o,
        getComputedStyle(document.querySelector(`.legend .o-${o}`)).backgroundColor])));
    assert.equal(new Set(Object.values(legend)).size, 5, `one colour per outcome: ${JSON.stringify(legend)}`);
    const passCell = matrix.rows.flatMap((r) => r.cells).find((c) => c.className.includes('o-pass'));
    if (passCell) assert.equal(passCell.background, legend.pass, 'a pass cell has the pass colour');

    // The embedded evidence list is folded once the script runs.
    assert.equal(await page.locator('#evidence-all').evaluate((d) => d.open), false);
    assert.ok(await page.locator('#panel').isHidden(), 'the panel starts hidden');

    await page.screenshot({ path: path.join(outDir, 'run-full.png'), fullPage: true });

    // A cell's evidence: request, status, response headers, its chart.
    const caseId = 'chat.status';
    const r = run.results.find((x) => x.case === caseId && x.target === 'cpp-second');
    const ev = await openEvidence(page, caseId, 1);
    assert.match(ev.heading, /chat\.status/);
    assert.match(ev.heading, /on cpp-second$/);
    assert.equal(ev.facts.level, r.level);
    assert.equal(ev.facts.outcome, r.outcome);
    const x = r.evidence.exchanges[0];
    assert.equal(ev.request, x.request, 'the request is shown');
    assert.equal(ev.request, 'POST /v1/chat/completions');
    assert.equal(ev.exchangeFacts.status, String(x.status), 'the status is shown');
    assert.deepEqual(ev.headers, x.response_headers, 'the response headers are shown');
    assert.ok(ev.headers.some(([k]) => /^content-type$/i.test(k)), 'Content-Type among them');
    assert.deepEqual(ev.lastEvents, x.last_events);
    assert.deepEqual(ev.chartLines, targets, "the case's chart, one line per target");
    if (r.message) assert.equal(ev.message, r.message);
    await page.locator('#panel').screenshot({ path: path.join(outDir, 'run-panel.png') });
    await page.screenshot({ path: path.join(outDir, 'run-panel-page.png') });
    await closePanel(page, 'escape');

    // Another cell replaces nothing twice: one article at a time, Close works.
    const ev2 = await openEvidence(page, 'direct.large-get', 0);
    assert.match(ev2.heading, /direct\.large-get.*on cpp$/);
    assert.equal(await page.locator('#panel article.ev').count(), 1);
    await closePanel(page, 'button');

    // A tiny reply's chart is folded away on the page, yet its cells' evidence
    // still shows it.
    const ev3 = await openEvidence(page, 'server.ready', 1);
    assert.deepEqual(ev3.chartLines, targets, 'a folded chart is still in the evidence');
    await closePanel(page, 'escape');

    // Timelines: a chart per case with a timeline, one polyline per target;
    // the streaming proofs drawn first, the small replies folded.
    const charts = await readCharts(page);
    const withTimeline = [...new Set(run.results
      .filter((x) => (x.evidence?.timeline ?? []).length > 0).map((x) => x.case))];
    assert.deepEqual(charts.map((c) => c.caseId).sort(), withTimeline.sort(), 'a chart per case');
    const drawn = charts.filter((c) => !c.folded).map((c) => c.caseId);
    assert.deepEqual(drawn.slice(0, 2), ['chat.incremental', 'direct.incremental'],
                     `the gated cases come first: ${drawn.join(', ')}`);
    // A small reply (under 64 KiB, under 5 events on every target) is folded:
    // the ready path's 17 bytes, say. server.health-during-stream holds event
    // streams open, which a slow run spreads out enough to be drawn.
    const small = (caseId) => run.results.filter((x) => x.case === caseId).every((x) =>
      (x.evidence?.timeline ?? []).every(([, bytes, events]) => bytes < 64 * 1024 && events < 5));
    const smallServerCharts = charts.filter((c) => c.caseId.startsWith('server.') &&
                                            small(c.caseId));
    assert.ok(smallServerCharts.length > 0, 'some server case has a small reply');
    for (const chart of smallServerCharts) {
      assert.ok(chart.folded, `${chart.caseId}: a small reply is folded away`);
    }
    if (drawn.includes('direct.large-get') && drawn.includes('chat.status')) {
      assert.ok(drawn.indexOf('direct.large-get') < drawn.indexOf('chat.status'),
                `the large byte stream before the other event streams: ${drawn.join(', ')}`);
    }
    assert.match(charts.find((c) => c.caseId === 'direct.incremental').look,
                 /buffering one stays flat/, 'a gated chart says what to look for');
    for (const chart of charts) {
      assert.equal(chart.rendered, !chart.folded, `${chart.caseId}: drawn unless folded`);
      for (const ticks of [chart.xTicks, chart.yTicks]) {
        assert.ok(ticks.length >= 2, `${chart.caseId}: ticks ${ticks}`);
        assert.equal(new Set(ticks).size, ticks.length, `${chart.caseId}: no tick label twice: ${ticks}`);
      }
      const expected = targets.filter((t) => run.results.some(
        (x) => x.case === chart.caseId && x.target === t && (x.evidence?.timeline ?? []).length));
      assert.deepEqual(chart.lines.map((l) => l.target), expected, `${chart.caseId}: lines`);
      for (const line of chart.lines) {
        for (const [x, y] of line.points) {
          assert.ok(x >= -1e-6 && x <= 1 + 1e-6 && y >= -1e-6 && y <= 1 + 1e-6,
                    `${chart.caseId}/${line.target}: point (${x}, ${y}) inside the axes`);
        }
      }
    }
    assertQuiet(seen);
    await page.context().close();
    ++finished;
  });

  test('a crafted report: markup stays text, failure evidence, buffering vs streaming', async () => {
    const message = 'expected data: [DONE] as the last event; saw the stream end after 12 events ' +
                    'and <script>alert(1)</script> "><img src=x onerror=alert(2)>';
    const craftedFile = path.join(tmp, 'crafted.json');
    await writeFile(craftedFile, JSON.stringify(craftedResults(message), null, 2));
    const html = path.join(tmp, 'crafted.html');
    // 1: a MUST case failed, which is what this report says.
    await runStreamcheck(['report', craftedFile, '--html', html], { okCodes: [1] });
    const crafted = craftedResults(message);
    const targets = ['cpp', 'flask'];

    const { page, seen } = await newPage();
    await page.goto(pathToFileURL(html).href);
    await page.locator('table.matrix').waitFor({ state: 'visible' });
    assert.match(await page.title(), /FAIL/);

    const matrix = await readMatrix(page);
    assertMatrix(matrix, crafted.results, targets);
    const row = matrix.rows.find((x) => x.id === 'chat.done-terminator');
    const [pass, fail] = row.cells;
    assert.equal(fail.text, 'FAIL');
    assert.notEqual(pass.background, fail.background, 'pass and fail cells differ in colour');
    const outcomes = new Set(matrix.rows.flatMap((x) => x.cells).map((c) => c.background));
    assert.equal(outcomes.size, 5, 'five outcomes, five colours');

    // Markup from a server is text: in the tooltip, in the panel, nowhere as elements.
    assert.equal(await cellLink(page, 'chat.done-terminator', 1).getAttribute('title'), message);
    const dom = await page.evaluate(() => ({
      scripts: document.scripts.length,
      images: document.images.length,
      data: JSON.parse(document.getElementById('streamcheck-data').textContent),
    }));
    assert.equal(dom.scripts, 2, 'only the data block and the page script');
    assert.equal(dom.images, 0, 'no <img> from a message');
    assert.deepEqual(seen.dialogs, [], 'no dialog: server text did not run as script');
    assert.deepEqual(dom.data.results.map((x) => x.message), crafted.results.map((x) => x.message),
                     'the embedded JSON survives </script> in strings');

    await page.screenshot({ path: path.join(outDir, 'crafted-full.png'), fullPage: true });

    const r = crafted.results.find((x) => x.case === 'chat.done-terminator' && x.target === 'flask');
    const ev = await openEvidence(page, 'chat.done-terminator', 1);
    assert.match(ev.heading, /^FAIL chat\.done-terminator on flask$/);
    assert.ok(ev.headings.includes('Failure message'));
    assert.equal(ev.message, message, 'the failure message, markup as text');
    const x = r.evidence.exchanges[0];
    assert.equal(ev.request, x.request);
    assert.equal(ev.exchangeFacts.status, '200');
    assert.deepEqual(ev.headers, x.response_headers);
    assert.equal(ev.headerElements, 0, 'a header value with <b> is not bold markup');
    assert.deepEqual(ev.lastEvents, x.last_events);
    const panelText = await page.locator('#panel').innerText();
    assert.ok(panelText.includes('<script>alert(1)</script>'), 'the <script> text is visible');
    await page.locator('#panel').screenshot({ path: path.join(outDir, 'crafted-panel.png') });
    await page.screenshot({ path: path.join(outDir, 'crafted-panel-page.png') });
    await closePanel(page, 'button');

    // The filters: failures only, then differences between targets only.
    const visibleRows = () => page.evaluate(() => [...document.querySelectorAll('tr.case-row')]
      .filter((tr) => tr.getBoundingClientRect().height > 0)
      .map((tr) => tr.querySelector('th.case code').textContent));
    assert.ok(await page.locator('#filters').isVisible(), 'the filters show with JavaScript');
    await page.locator('#only-failures').check();
    const failing = crafted.catalog.map((c) => c.id).filter((id) => crafted.results.some(
      (x) => x.case === id && !['pass', 'skip'].includes(x.outcome)));
    assert.deepEqual((await visibleRows()).sort(), failing.sort(), 'failures only');
    assert.match(await page.locator('#filter-count').innerText(), /cases shown/);
    await page.screenshot({ path: path.join(outDir, 'crafted-failures-only.png'), fullPage: true });
    await page.locator('#only-failures').uncheck();
    await page.locator('#only-differences').check();
    const differing = crafted.catalog.map((c) => c.id).filter((id) => new Set(
      crafted.results.filter((x) => x.case === id).map((x) => x.outcome)).size > 1);
    assert.deepEqual((await visibleRows()).sort(), differing.sort(), 'differences only');
    const chartShown = await page.evaluate(() => Object.fromEntries(
      [...document.querySelectorAll('#timelines figure')].map((f) => [
        f.querySelector('figcaption code').textContent, !f.hidden])));
    assert.equal(chartShown['direct.large-get'], false, 'a chart of a case that passes everywhere hides');
    assert.equal(chartShown['direct.incremental'], true, 'the differing case keeps its chart');
    await page.locator('#only-differences').uncheck();
    assert.equal((await visibleRows()).length, crafted.catalog.length, 'all rows back');

    // The buffering target's line stays flat, then jumps; the streaming one climbs.
    const ev2 = await openEvidence(page, 'direct.incremental', 1);
    assert.deepEqual(ev2.chartLines, targets);
    await page.locator('#panel svg.timeline').screenshot({
      path: path.join(outDir, 'crafted-panel-chart.png') });
    await closePanel(page, 'escape');
    const chart = (await readCharts(page)).find((c) => c.caseId === 'direct.incremental');
    assert.deepEqual(chart.lines.map((l) => l.target), targets, 'one line per target');
    const [streaming, buffering] = chart.lines;
    const at = (line, x) => {  // the line's value at time fraction x (points are in order)
      let value = 0;
      for (const [px, py] of line.points) if (px <= x + 1e-9) value = py;
      return value;
    };
    for (const x of [0.25, 0.5, 0.75]) {
      assert.ok(Math.abs(at(streaming, x) - x) < 0.1, `streaming climbs steadily: ${at(streaming, x)} at ${x}`);
    }
    assert.ok(buffering.points.filter(([x]) => x < 0.9).every(([, y]) => y < 0.02),
              'buffering stays flat for the first 90% of the time');
    assert.ok(buffering.points.at(-1)[1] > 0.98, 'then jumps to the whole body');

    assertQuiet(seen);
    await page.context().close();
    ++finished;
  });

  test('without JavaScript, cells link to the evidence below', async () => {
    const html = path.join(tmp, 'crafted.html');
    assert.ok(existsSync(html), 'the crafted report exists (previous test)');
    const { page, seen } = await newPage({ javaScriptEnabled: false });
    await page.goto(pathToFileURL(html).href);
    assert.equal(await page.locator('#evidence-all').evaluate((d) => d.open), true);
    const link = cellLink(page, 'chat.done-terminator', 1);
    const href = await link.getAttribute('href');
    await link.click();
    await page.waitForURL((url) => url.hash === href);
    const target = page.locator(`article${href}`);
    await target.waitFor({ state: 'visible' });
    assert.ok(await target.evaluate((a) => a.matches(':target')));
    assert.ok((await target.innerText()).includes('<script>alert(1)</script>'));
    assertQuiet(seen);
    await page.context().close();
    ++finished;
  });

  test('with the panel open, the selected cell stays in view and can be changed', async () => {
    const file = path.join(tmp, 'four.json');
    await writeFile(file, JSON.stringify(fourTargets(), null, 2));
    const html = path.join(tmp, 'four.html');
    await runStreamcheck(['report', file, '--html', html], { okCodes: [1] });
    const targets = ['cpp', 'fastapi', 'flask-gunicorn', 'flask'];

    // Common laptop and desktop widths, and one where the matrix must scroll.
    for (const width of [1280, 1400, 1024]) {
      const { page, seen } = await newPage({ viewport: { width, height: 800 } });
      await page.goto(pathToFileURL(html).href);
      await page.locator('table.matrix').waitFor({ state: 'visible' });
      assert.deepEqual((await readMatrix(page)).targets, targets);

      // Every column, the last first, one cell after another without closing
      // the panel: a cell under the panel could not be clicked at all.
      for (const [caseId, t] of [['direct.incremental', 3], ['server.cl-te', 2],
                                 ['chat.done-terminator', 1], ['direct.large-get', 0],
                                 ['server.cl-te', 3]]) {
        const link = cellLink(page, caseId, t);
        await link.scrollIntoViewIfNeeded();
        const before = await link.evaluate((a) => {
          const r = a.closest('td').getBoundingClientRect();
          return { top: r.top, whole: r.top >= 0 && r.bottom <= innerHeight };
        });
        await openEvidence(page, caseId, t);
        const geo = await link.evaluate((a) => {
          const cell = a.closest('td').getBoundingClientRect();
          const panel = document.getElementById('panel').getBoundingClientRect();
          const hit = document.elementFromPoint((cell.left + cell.right) / 2,
                                                (cell.top + cell.bottom) / 2);
          return {
            cell: { left: cell.left, right: cell.right, top: cell.top, bottom: cell.bottom },
            panel: { left: panel.left, right: panel.right, width: panel.width },
            viewport: { width: innerWidth, height: innerHeight },
            hitInCell: hit !== null && a.closest('td').contains(hit),
          };
        });
        const where = `${width} px, ${caseId} on ${targets[t]}: ${JSON.stringify(geo)}`;
        assert.ok(geo.panel.width >= 300, `the panel is there: ${where}`);
        assert.ok(geo.cell.right <= geo.panel.left + 0.5, `the cell is left of the panel: ${where}`);
        assert.ok(geo.cell.left >= 0 && geo.cell.top >= 0 && geo.cell.bottom <= geo.viewport.height + 0.5,
                  `the cell is inside the window: ${where}`);
        assert.ok(geo.hitInCell, `nothing covers the cell: ${where}`);
        if (before.whole) {
          assert.ok(Math.abs(geo.cell.top - before.top) < 2,
                    `the cell stays where it was clicked (${before.top} -> ${geo.cell.top}): ${where}`);
        }
        if (t === 3 && caseId === 'direct.incremental') {
          await page.screenshot({ path: path.join(outDir, `four-panel-${width}.png`) });
        }
      }
      await closePanel(page, 'button');
      assert.equal(await page.evaluate(() => document.body.classList.contains('panel-open')), false);
      assertQuiet(seen);
      await page.context().close();
    }
    ++finished;
  });
});

// A results JSON in `run --json` shape: two targets, every outcome, a MUST
// failure whose texts hold markup, and direct.incremental timelines of a
// streaming server (a steady climb) and a buffering one (flat, then a jump).
function craftedResults(message) {
  const mib = 1024 * 1024;
  const size = 8 * mib;
  const streaming = Array.from({ length: 40 }, (_, i) => {
    const t = 50 * (i + 1);
    return [t, Math.round(size * (i + 1) / 40), 0];
  });
  const buffering = [[1950, 64 * 1024, 0], [1970, 4 * mib, 0], [2000, size, 0]];
  const chatEvents = Array.from({ length: 12 }, (_, i) => [1 + i * 0.5, 180 * (i + 1), i + 1]);
  const chunk = (text) => JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
  });
  const sseHeaders = [['Content-Type', 'text/event-stream; charset=utf-8'],
                      ['X-Drum-Version', '1.16.0'], ['X_Request_ID', '<b>not-bold</b>']];
  const chatRequest = 'POST /v1/chat/completions';
  const chatBody = '{"messages":[{"content":"Hello","role":"user"}],"model":"gpt-4","stream":true}';
  // One exchange of a case's evidence, as the engine records it.
  const exchange = (fields) => ({ request_body: chatBody, body_bytes: 0, total_ms: 3, ...fields });
  const result = (target, id, level, outcome, extra = {}) => ({
    target, case: id, area: id.split('.')[0], level, outcome, message: '', duration_ms: 12.5,
    metrics: {}, evidence: {}, ...extra,
  });
  return {
    tool: { name: 'streamcheck', version: '0.1.0' },
    started_at: '2025-01-01T00:00:00Z',
    duration_ms: 4321,
    targets: [
      { name: 'cpp', url: 'http://127.0.0.1:40123', features: ['chat', 'direct_access'], managed: true,
        log: '/tmp/logs/cpp.log' },
      { name: 'flask', url: 'http://127.0.0.1:40124', features: ['chat', 'direct_access'],
        managed: true, log: '/tmp/logs/flask.log' },
    ],
    results: [
      result('cpp', 'chat.done-terminator', 'MUST', 'pass', {
        evidence: { exchanges: [exchange({ request: chatRequest, status: 200,
                    response_headers: [['Content-Type', 'text/event-stream'], ['Cache-Control', 'no-cache']],
                    last_events: [chunk(' end'), '[DONE]'] })], timeline: [...chatEvents, [7, 2200, 13]] },
      }),
      result('flask', 'chat.done-terminator', 'MUST', 'fail', {
        message,
        evidence: { exchanges: [exchange({ request: chatRequest, status: 200, response_headers: sseHeaders,
                    last_events: [chunk(' cut'), '</script><script>alert(3)</script><!--'] })],
                    timeline: chatEvents, note: 'connection closed by the server <!-- -->' },
      }),
      result('cpp', 'chat.no-cache', 'SHOULD', 'pass'),
      result('flask', 'chat.no-cache', 'SHOULD', 'warn', {
        message: 'expected Cache-Control: no-cache; saw no Cache-Control header',
        evidence: { exchanges: [exchange({ request: chatRequest, status: 200, response_headers: sseHeaders })] },
      }),
      result('cpp', 'chat.concurrent', 'MUST', 'pass', { metrics: { streams: 64 } }),
      result('flask', 'chat.concurrent', 'MUST', 'error', {
        message: 'could not open 64 connections: Too many open files',
      }),
      result('cpp', 'direct.large-get', 'MUST', 'pass', {
        metrics: { bytes: size, mib_per_s: 812.4, rss_growth_mib: 1.2 },
        evidence: { exchanges: [exchange({ request: 'GET /directAccess/large-file', status: 200,
                    request_body: '', response_headers: [['Content-Length', String(size)]] })],
                    timeline: streaming },
      }),
      result('flask', 'direct.large-get', 'MUST', 'pass', {
        metrics: { bytes: size, mib_per_s: 3.9, rss_growth_mib: 16.3 },
        evidence: { exchanges: [exchange({ request: 'GET /directAccess/large-file', status: 200,
                    request_body: '', response_headers: [['Content-Length', String(size)]] })],
                    timeline: buffering },
      }),
      result('cpp', 'direct.incremental', 'MUST', 'pass', {
        evidence: { exchanges: [exchange({ label: 'gated after 1 MiB', request_body: '',
                    request: 'GET /directAccess/large-file', status: 200 })], timeline: streaming },
      }),
      result('flask', 'direct.incremental', 'MUST', 'fail', {
        message: 'expected bytes before the gate opened at 1900 ms; the first byte came at 1950 ms',
        evidence: { exchanges: [exchange({ label: 'gated after 1 MiB', request_body: '',
                    request: 'GET /directAccess/large-file', status: 200 })], timeline: buffering },
      }),
      result('cpp', 'direct.methods-extended', 'SHOULD', 'pass'),
      result('flask', 'direct.methods-extended', 'SHOULD', 'skip', {
        message: 'the target does not route DELETE or PATCH',
      }),
    ],
    catalog: [
      { id: 'chat.done-terminator', area: 'chat', level: 'MUST',
        title: 'data: [DONE] arrives exactly once, as the last event' },
      { id: 'chat.no-cache', area: 'chat', level: 'SHOULD',
        title: 'Cache-Control: no-cache and X-Accel-Buffering: no' },
      { id: 'chat.concurrent', area: 'chat', level: 'MUST', title: '64 concurrent streams all complete' },
      { id: 'direct.large-get', area: 'direct', level: 'MUST',
        title: 'GET /directAccess/large-file gives 200 and exactly size_mb MiB' },
      { id: 'direct.incremental', area: 'direct', level: 'MUST',
        title: 'with the backend gated after its first MiB, bytes reach the client before it opens' },
      { id: 'direct.methods-extended', area: 'direct', level: 'SHOULD',
        title: 'DELETE and PATCH reach the backend intact' },
    ],
  };
}

// The crafted report with four targets, as a Flask, FastAPI and C++ comparison
// has, and the longest case title of the catalog.
function fourTargets() {
  const base = craftedResults('expected data: [DONE] as the last event');
  const rename = (from, to) => base.results.filter((r) => r.target === from)
    .map((r) => ({ ...r, target: to }));
  const longTitle = 'a malformed request line, a 64 KiB header, and Content-Length with ' +
                    'Transfer-Encoding get 4xx (or a closed connection), and the server keeps serving';
  const [cpp, flask] = base.targets;
  const targets = [cpp, { ...cpp, name: 'fastapi', url: 'http://127.0.0.1:40125' },
                   { ...flask, name: 'flask-gunicorn', url: 'http://127.0.0.1:40126' }, flask];
  const results = [...base.results, ...rename('cpp', 'fastapi'), ...rename('flask', 'flask-gunicorn')];
  for (const t of targets) {
    results.push({ target: t.name, case: 'server.cl-te', area: 'server', level: 'MUST',
                   outcome: t.name.startsWith('flask') ? 'fail' : 'pass',
                   message: '', duration_ms: 3, metrics: {}, evidence: {} });
  }
  return {
    ...base, targets, results,
    catalog: [{ id: 'server.cl-te', area: 'server', level: 'MUST', title: longTitle },
              ...base.catalog],
  };
}
