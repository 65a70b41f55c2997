// shatter in the browser: trains one network per data setting on the local GPU (WebGPU,
// through the wasm module in ./pkg) and draws the paper's Figure 1a-style curves as it goes.
//
// Structure: the page state lives in `page`; `applyQuery` presets the controls from the URL,
// `startRuns` prepares one run per checked setting and `runLoop` trains them round-robin,
// one epoch each in turn, so their curves grow side by side. After every epoch `updateRow`
// and `drawCharts` bring the table and the charts up to date.

// ---------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------

// The settings in the order they are shown, prepared and run. `labels` stands for
// "labels:P" with P taken from #label-p. Colours are Okabe-Ito, which stays distinguishable
// under the common forms of colour blindness (its yellow is left out: too faint on white).
const SETTINGS = [
  { key: 'none', name: 'true labels', colour: '#0072B2' },
  { key: 'labels', name: 'partially corrupted labels', colour: '#009E73' },
  { key: 'random-labels', name: 'random labels', colour: '#D55E00' },
  { key: 'shuffled-pixels', name: 'shuffled pixels', colour: '#CC79A7' },
  { key: 'random-pixels', name: 'random pixels', colour: '#E69F00' },
  { key: 'gaussian', name: 'Gaussian images', colour: '#56B4E9' },
];

const MODELS = ['mlp1x512', 'mlp3x512', 'alexnet'];

// The preview grid: columns x rows of training images.
const PREVIEW_COLUMNS = 8;
const PREVIEW_ROWS = 2;

// Chart geometry, in the SVG's viewBox units (the SVG scales to its box).
const CHART = { width: 340, height: 250, left: 50, right: 12, top: 14, bottom: 40 };

// What each chart plots. Accuracies are drawn in percent on a fixed 0-100 axis; the loss
// axis runs from 0 to the largest loss seen so far.
const CHARTS = [
  { id: 'chart-loss', yLabel: 'training loss', value: (m) => m.train_loss, percent: false },
  { id: 'chart-train-acc', yLabel: 'training accuracy (%)', value: (m) => 100 * m.train_accuracy, percent: true },
  { id: 'chart-test-acc', yLabel: 'test accuracy (%)', value: (m) => 100 * m.test_accuracy, percent: true, chance: 10 },
];

const SVG_NS = 'http://www.w3.org/2000/svg';

// ---------------------------------------------------------------------------------------
// Page state
// ---------------------------------------------------------------------------------------

const page = {
  state: 'loading',  // loading | idle | running | done | stopped | error
  lab: null,         // the wasm Lab once open
  records: [],       // one per setting of the current (or last) start; see makeRecord
  stopRequested: false,
  loop: null,        // the promise of the running loop, so Reset can wait for it
  startedAt: 0,      // performance.now() at Start
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------
// Status and errors
// ---------------------------------------------------------------------------------------

function setStatus(state, text) {
  page.state = state;
  const status = $('status');
  status.dataset.state = state;
  status.textContent = text;
  updateButtons();
}

// One line, whatever was thrown: wasm-bindgen rejects with Error objects or plain strings.
function errorMessage(error) {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim() || 'unknown error';
}

// Shows a one-line error. With `keep`, it is added to those already shown (joined on one
// line), so the failure of one setting does not hide another's.
function showError(message, keep = false) {
  const box = $('error');
  const shown = box.hidden ? '' : box.textContent;
  if (keep && shown.includes(message)) return;  // e.g. the same preview failing again
  box.textContent = keep && shown ? `${shown}; ${message}` : message;
  box.hidden = false;
}

function clearError() {
  const box = $('error');
  box.textContent = '';
  box.hidden = true;
}

function updateButtons() {
  const running = page.state === 'running';
  const ready = page.lab !== null;
  $('controls').disabled = running;
  $('start').disabled = !ready || running;
  $('stop').disabled = !running || page.stopRequested;
  $('reset').disabled = !ready;
}

// ---------------------------------------------------------------------------------------
// Controls
// ---------------------------------------------------------------------------------------

function settingInfo(value) {
  const key = value.startsWith('labels:') ? 'labels' : value;
  return SETTINGS.find((s) => s.key === key);
}

function settingName(value) {
  const info = settingInfo(value);
  if (info.key === 'labels') return `${info.name} (p = ${value.slice('labels:'.length)})`;
  return info.name;
}

// The corruption probability as the setting string spells it ("0.5", "1"), or null when the
// field does not hold a number in [0, 1].
function labelP() {
  const field = $('label-p');
  if (field.value.trim() === '') return null;
  const p = Number(field.value);
  return Number.isFinite(p) && p >= 0 && p <= 1 ? String(p) : null;
}

// The setting strings of the checked boxes, in SETTINGS order; a bad p is reported by the
// caller (readControls), so here it only drops the partially corrupted setting.
function checkedSettings() {
  const checked = new Set(
    [...document.querySelectorAll('input[name="setting"]:checked')].map((box) => box.value));
  const values = [];
  for (const { key } of SETTINGS) {
    if (!checked.has(key)) continue;
    if (key === 'labels') {
      const p = labelP();
      if (p !== null) values.push(`labels:${p}`);
    } else {
      values.push(key);
    }
  }
  return values;
}

function integerField(id, name, min, max) {
  const text = $(id).value.trim();
  const value = Number(text);
  if (text === '' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be a whole number from ${min} to ${max}`);
  }
  return value;
}

// Reads and checks every control; throws an Error with a one-line message on bad input.
function readControls() {
  const model = $('model').value;
  if (!MODELS.includes(model)) throw new Error(`unknown model '${model}'`);
  const images = integerField('images', 'Training images', 256, 10000);
  const epochs = integerField('epochs', 'Max epochs', 1, 1000);
  const batch = integerField('batch', 'Batch size', 1, 10000);
  // The module takes the seed as a u32: a larger one would wrap silently.
  const seed = integerField('seed', 'Seed', 0, 4294967295);
  const lr = Number($('lr').value);
  if ($('lr').value.trim() === '' || !Number.isFinite(lr) || lr <= 0) {
    throw new Error('Learning rate must be a positive number');
  }
  if (document.querySelector('input[name="setting"][value="labels"]').checked && labelP() === null) {
    throw new Error('p for partially corrupted labels must be a number from 0 to 1');
  }
  const settings = checkedSettings();
  if (settings.length === 0) throw new Error('Check at least one data setting');
  return { model, images, epochs, batch, lr, seed, settings };
}

// Presets the controls from the URL, e.g.
//   ?model=alexnet&images=1000&settings=none,labels:0.2,random-labels&epochs=50&autostart=1
// Returns whether autostart was asked for. Values are only placed in the fields here;
// readControls checks them at Start, so a bad one is reported like a bad typed value.
function applyQuery() {
  const query = new URLSearchParams(window.location.search);
  const problems = [];

  const model = query.get('model');
  if (model !== null) {
    if (MODELS.includes(model)) $('model').value = model;
    else problems.push(`unknown model '${model}'`);
  }
  for (const id of ['images', 'epochs', 'batch', 'lr', 'seed']) {
    const value = query.get(id);
    if (value !== null) $(id).value = value;
  }

  const settings = query.get('settings');
  if (settings !== null) {
    const wanted = new Set();
    for (const item of settings.split(',').map((s) => s.trim()).filter(Boolean)) {
      if (item.startsWith('labels:')) {
        wanted.add('labels');
        $('label-p').value = item.slice('labels:'.length);
      } else if (SETTINGS.some((s) => s.key === item)) {
        wanted.add(item);
      } else {
        problems.push(`unknown setting '${item}' in the URL`);
      }
    }
    for (const box of document.querySelectorAll('input[name="setting"]')) {
      box.checked = wanted.has(box.value);
    }
  }

  if (problems.length > 0) {
    // A URL that asks for something unknown must not start a different experiment silently.
    showError(`${problems.join('; ')}; not starting automatically`);
    return false;
  }
  return query.get('autostart') === '1';
}

// ---------------------------------------------------------------------------------------
// Runs
// ---------------------------------------------------------------------------------------

function makeRecord(setting) {
  return {
    setting,                 // the exact setting string given to prepare
    name: settingName(setting),
    colour: settingInfo(setting).colour,
    run: null,               // the wasm run, until freed
    epochs: [],              // parsed epoch JSON, plus seconds and images_per_second
    fittedEpoch: null,
    error: null,
    finished: false,
    note: 'waiting',
  };
}

function freeRuns() {
  for (const record of page.records) {
    if (record.run === null) continue;
    try {
      record.run.free();
    } catch (error) {
      // Freeing can only fail if the run is already gone; nothing is left to release.
      console.warn(`freeing ${record.setting}:`, error);
    }
    record.run = null;
  }
}

// Lets the page repaint between epochs. requestAnimationFrame is the natural wait, but it
// never fires in a hidden tab (nor in some headless modes), which would pause training, so a
// short timer bounds the wait; a hidden page yields through a message instead, because
// background tabs throttle timers to once a second or slower and messages are not throttled.
function nextFrame() {
  if (document.hidden) {
    return new Promise((resolve) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = () => resolve();
      channel.port2.postMessage(null);
    });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 50);
    requestAnimationFrame(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function startRuns() {
  if (page.lab === null || page.state === 'running') return;
  clearError();
  let controls;
  try {
    controls = readControls();
  } catch (error) {
    showError(errorMessage(error));
    return;
  }
  // The whole session (preparation and training) is one promise, so Reset can wait for it
  // before it frees anything: a run must not be freed while it is being prepared or trained.
  page.loop = runSession(controls)
    .catch((error) => {
      // Only a bug in this page gets here (run errors are caught per setting); say so
      // rather than leave the page in "running".
      showError(`unexpected: ${errorMessage(error)}`);
      setStatus('error', 'The page failed; see the error above.');
    })
    .finally(() => { page.loop = null; });
}

async function runSession(controls) {
  freeRuns();
  page.records = controls.settings.map(makeRecord);
  page.stopRequested = false;
  page.startedAt = performance.now();
  buildTable();
  buildLegend();
  drawCharts();
  setStatus('running', 'Preparing the runs…');

  for (const record of page.records) {
    if (page.stopRequested) break;
    setStatus('running', `Preparing ${record.name}…`);
    await nextFrame();  // show the status before the preparation
    if (page.stopRequested) break;
    try {
      record.run = await page.lab.prepare(controls.model, controls.images, record.setting,
        controls.seed, controls.batch, controls.lr);
      record.note = 'ready';
    } catch (error) {
      failRecord(record, error);
    }
    updateRow(record);
  }
  await runLoop(controls);
}

// A setting that fails is reported in its row and in #error, and the others go on.
function failRecord(record, error) {
  record.error = errorMessage(error);
  // A lost device does not come back: every later run on this page would fail too.
  if (/device lost/i.test(record.error)) {
    record.error += ' (the browser stopped its GPU process; reload the page to start again)';
  }
  record.finished = true;
  record.note = `error: ${record.error}`;
  showError(`${record.name}: ${record.error}`, true);
}

async function runLoop(controls) {
  while (!page.stopRequested) {
    const pending = page.records.filter((r) => !r.finished);
    if (pending.length === 0) break;
    for (const record of pending) {
      if (page.stopRequested) break;
      record.note = 'training';
      updateRow(record);
      setStatus('running', runningText(record, controls));
      await trainEpoch(record, controls);
      updateRow(record);
      drawCharts();
      await nextFrame();
    }
  }

  for (const record of page.records) {
    if (!record.finished) {
      record.note = 'stopped';
      updateRow(record);
    }
  }
  if (page.stopRequested) {
    page.stopRequested = false;
    setStatus('stopped', `Stopped after ${formatDuration(performance.now() - page.startedAt)}. Start begins afresh.`);
  } else if (page.records.every((r) => r.error !== null)) {
    setStatus('error', 'Every run failed; see the error above.');
  } else {
    setStatus('done', doneText(controls));
  }
}

// One epoch of one run: trains, evaluates, records the metrics and decides whether the run
// is finished.
async function trainEpoch(record, controls) {
  const started = performance.now();
  let metrics;
  try {
    const json = await record.run.epoch();
    metrics = JSON.parse(json);
  } catch (error) {
    failRecord(record, error);
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  metrics.seconds = seconds;
  // Wall time of the whole epoch, so it includes the evaluation of both sets.
  metrics.images_per_second = metrics.train_images / seconds;
  record.epochs.push(metrics);

  if (metrics.train_accuracy >= 1) {
    record.fittedEpoch = metrics.epoch;
    record.finished = true;
    record.note = 'fitted';
  } else if (record.epochs.length >= controls.epochs) {
    // Counted here rather than read from metrics.epoch, so the limit holds however the
    // module numbers its epochs.
    record.finished = true;
    record.note = `not fitted in ${controls.epochs} epochs`;
  } else {
    record.note = 'waiting';
  }
}

function runningText(current, controls) {
  const finished = page.records.filter((r) => r.finished).length;
  return `Running: ${current.name}, epoch ${current.epochs.length + 1} of at most ${controls.epochs}; ` +
    `${finished} of ${page.records.length} runs finished (${formatDuration(performance.now() - page.startedAt)}).`;
}

function doneText(controls) {
  const parts = page.records.map((r) => {
    if (r.error !== null) return `${r.name} failed`;
    if (r.fittedEpoch !== null) return `${r.name} fitted at epoch ${r.fittedEpoch}`;
    return `${r.name} not fitted in ${controls.epochs} epochs`;
  });
  return `Done in ${formatDuration(performance.now() - page.startedAt)}: ${parts.join('; ')}.`;
}

function formatDuration(ms) {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

function stopRuns() {
  if (page.state !== 'running') return;
  page.stopRequested = true;
  setStatus('running', 'Stopping after the current epoch…');
}

async function resetRuns() {
  if (page.loop !== null) {
    page.stopRequested = true;
    setStatus('running', 'Stopping after the current epoch…');
    // A run must not be freed while its epoch is still on the GPU: wait for the session.
    await page.loop;
  }
  freeRuns();
  page.records = [];
  page.stopRequested = false;
  clearError();
  buildTable();
  buildLegend();
  drawCharts();
  setStatus('idle', 'Ready. Choose the data settings and press Start.');
}

// ---------------------------------------------------------------------------------------
// Results table
// ---------------------------------------------------------------------------------------

const COLUMNS = ['setting', 'epoch', 'train-loss', 'train-acc', 'test-acc', 'images-per-second', 'fitted', 'note'];

function buildTable() {
  const body = $('results').tBodies[0];
  body.replaceChildren();
  for (const record of page.records) {
    const row = document.createElement('tr');
    row.dataset.setting = record.setting;
    for (const column of COLUMNS) {
      const cell = document.createElement('td');
      cell.className = column;
      row.append(cell);
    }
    row.querySelector('td.setting').append(swatchFor(record.colour), record.name);
    body.append(row);
    updateRow(record);
  }
}

// The small coloured line that ties a setting to its curves.
function swatchFor(colour) {
  const swatch = document.createElement('span');
  swatch.className = 'swatch';
  swatch.style.setProperty('--colour', colour);
  swatch.setAttribute('aria-hidden', 'true');
  return swatch;
}

function percent(x) {
  return `${(100 * x).toFixed(1)}%`;
}

function updateRow(record) {
  const row = $('results').querySelector(`tr[data-setting="${CSS.escape(record.setting)}"]`);
  if (row === null) return;
  const cell = (name) => row.querySelector(`td.${name}`);
  const last = record.epochs.at(-1);
  if (last !== undefined) {
    row.dataset.epoch = String(last.epoch);
    row.dataset.trainLoss = String(last.train_loss);
    row.dataset.trainAccuracy = String(last.train_accuracy);
    row.dataset.testAccuracy = String(last.test_accuracy);
    row.dataset.imagesPerSecond = String(last.images_per_second);
    cell('epoch').textContent = String(last.epoch);
    cell('train-loss').textContent = Number(last.train_loss).toFixed(3);
    cell('train-acc').textContent = percent(last.train_accuracy);
    cell('test-acc').textContent = percent(last.test_accuracy);
    cell('images-per-second').textContent = String(Math.round(last.images_per_second));
  } else {
    for (const name of ['epoch', 'train-loss', 'train-acc', 'test-acc', 'images-per-second']) {
      cell(name).textContent = '–';
    }
  }
  if (record.fittedEpoch !== null) row.dataset.fittedEpoch = String(record.fittedEpoch);
  else delete row.dataset.fittedEpoch;
  cell('fitted').textContent = record.fittedEpoch !== null ? String(record.fittedEpoch) : '–';
  cell('note').textContent = record.note;
  row.classList.toggle('failed', record.error !== null);
  if (record.error !== null) row.dataset.error = record.error;
}

// ---------------------------------------------------------------------------------------
// Charts (inline SVG, drawn by hand)
// ---------------------------------------------------------------------------------------

function svg(tag, attributes, parent) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (parent) parent.append(element);
  return element;
}

// A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `count` parts.
function niceStep(span, count) {
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / magnitude;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * magnitude;
}

function decimalsOf(step) {
  return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
}

function buildLegend() {
  const legend = $('legend');
  legend.replaceChildren();
  for (const record of page.records) {
    const item = document.createElement('li');
    item.append(swatchFor(record.colour), record.name);
    legend.append(item);
  }
}

function drawCharts() {
  // The x axis is shared by all three charts, so they line up epoch for epoch.
  const maxEpoch = Math.max(10, ...page.records.flatMap((r) => r.epochs.map((m) => m.epoch)));
  for (const spec of CHARTS) drawChart(spec, maxEpoch);
}

function drawChart(spec, maxEpoch) {
  const root = $(spec.id);
  root.replaceChildren();
  const { width, height, left, right, top, bottom } = CHART;
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;

  // y range: 0-100% for accuracies; 0 to the largest finite loss seen for the loss.
  let yMax = 100;
  let yStep = 20;
  if (!spec.percent) {
    const values = page.records.flatMap((r) => r.epochs.map(spec.value)).filter(Number.isFinite);
    const largest = Math.max(0, ...values);
    yStep = niceStep(largest > 0 ? largest : 1, 5);
    yMax = Math.max(yStep, Math.ceil(largest / yStep - 1e-9) * yStep);
  }
  const xStep = Math.max(1, niceStep(maxEpoch, 5));
  const x = (epoch) => left + (epoch / maxEpoch) * plotWidth;
  // A diverged (non-finite) loss is pinned to the top so the run keeps one point per epoch.
  const y = (value) => top + plotHeight - (Math.min(Number.isFinite(value) ? value : yMax, yMax) / yMax) * plotHeight;

  // Ticks, grid and labels.
  const axes = svg('g', { class: 'axes' }, root);
  const yDecimals = spec.percent ? 0 : decimalsOf(yStep);
  for (let i = 0; i * yStep <= yMax + 1e-9; i += 1) {
    const value = i * yStep;
    const py = y(value);
    svg('line', { class: 'grid', x1: left, x2: left + plotWidth, y1: py, y2: py }, axes);
    svg('line', { class: 'tick', x1: left - 4, x2: left, y1: py, y2: py }, axes);
    svg('text', { x: left - 7, y: py, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, axes)
      .textContent = value.toFixed(yDecimals);
  }
  for (let epoch = 0; epoch <= maxEpoch + 1e-9; epoch += xStep) {
    const px = x(epoch);
    svg('line', { class: 'tick', x1: px, x2: px, y1: top + plotHeight, y2: top + plotHeight + 4 }, axes);
    svg('text', { x: px, y: top + plotHeight + 16, 'text-anchor': 'middle' }, axes)
      .textContent = String(Math.round(epoch));
  }
  svg('line', { class: 'axis', x1: left, x2: left, y1: top, y2: top + plotHeight }, axes);
  svg('line', { class: 'axis', x1: left, x2: left + plotWidth, y1: top + plotHeight, y2: top + plotHeight }, axes);
  svg('text', { class: 'axis-label', x: left + plotWidth / 2, y: height - 6, 'text-anchor': 'middle' }, axes)
    .textContent = 'epoch';
  svg('text', {
    class: 'axis-label', x: 0, y: 0, 'text-anchor': 'middle',
    transform: `translate(12 ${top + plotHeight / 2}) rotate(-90)`,
  }, axes).textContent = spec.yLabel;

  if (spec.chance !== undefined) {
    const py = y(spec.chance);
    svg('line', { class: 'chance', x1: left, x2: left + plotWidth, y1: py, y2: py }, root);
    svg('text', { class: 'chance-label', x: left + plotWidth - 3, y: py - 4, 'text-anchor': 'end' }, root)
      .textContent = 'chance';
  }

  // One polyline per run, one point per epoch, plus a dot on its latest point so a run
  // with a single epoch is visible too.
  for (const record of page.records) {
    const points = record.epochs.map((m) => `${x(m.epoch).toFixed(2)},${y(spec.value(m)).toFixed(2)}`);
    svg('polyline', {
      'data-setting': record.setting, class: 'series', points: points.join(' '), stroke: record.colour,
    }, root);
    const last = record.epochs.at(-1);
    if (last !== undefined) {
      svg('circle', {
        class: 'head', cx: x(last.epoch), cy: y(spec.value(last)), r: 2.2, fill: record.colour,
      }, root);
    }
  }
}

// ---------------------------------------------------------------------------------------
// What the network sees
// ---------------------------------------------------------------------------------------

function drawPreview() {
  const container = $('previews');
  container.replaceChildren();
  if (page.lab === null) return;
  let seed = Number($('seed').value);
  if (!Number.isInteger(seed) || seed < 0) seed = 1;  // readControls reports it at Start
  for (const setting of checkedSettings()) {
    const figure = document.createElement('figure');
    figure.className = 'preview';
    const caption = document.createElement('figcaption');
    caption.append(swatchFor(settingInfo(setting).colour), settingName(setting));
    try {
      const grid = page.lab.preview(setting, PREVIEW_COLUMNS, PREVIEW_ROWS, seed);
      const { width, height } = grid;
      const rgba = grid.rgba;
      // If the module hands back a wasm-bindgen object rather than a plain one, release it.
      if (typeof grid.free === 'function') grid.free();
      const canvas = document.createElement('canvas');
      canvas.dataset.setting = setting;
      canvas.width = width;
      canvas.height = height;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label',
        `The first ${PREVIEW_COLUMNS * PREVIEW_ROWS} training images with ${settingName(setting)}`);
      // A copy: ImageData will not take a view of wasm (possibly shared) memory.
      const pixels = new Uint8ClampedArray(rgba);
      canvas.getContext('2d').putImageData(new ImageData(pixels, width, height), 0, 0);
      figure.append(canvas, caption);
    } catch (error) {
      const message = errorMessage(error);
      const problem = document.createElement('p');
      problem.className = 'preview-error';
      problem.textContent = `Cannot show this data: ${message}`;
      figure.append(problem, caption);
      showError(`${settingName(setting)} (preview): ${message}`, true);
    }
    container.append(figure);
  }
}

// Colours the swatches beside the setting checkboxes from SETTINGS, the one place they live.
function colourSwatches() {
  for (const swatch of document.querySelectorAll('[data-swatch]')) {
    swatch.style.setProperty('--colour', settingInfo(swatch.dataset.swatch).colour);
  }
}

// ---------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------

const WEBGPU_HINT = 'This page needs WebGPU: use a recent Chrome or Edge, or Firefox or Safari with WebGPU enabled.';

async function openLab() {
  let module;
  try {
    module = await import('./pkg/shatter_web.js');
    await module.default();
  } catch (error) {
    throw new Error(`cannot load the wasm module (web/pkg): ${errorMessage(error)}`);
  }
  try {
    return await module.Lab.open();
  } catch (error) {
    // The module decides whether it can run (it says why); the hint tells the reader what
    // to do. navigator.gpu is also missing on pages not served from localhost or https.
    const missing = 'gpu' in navigator ? '' : ' (this browser exposes no navigator.gpu here)';
    throw new Error(`${errorMessage(error).replace(/\.$/, '')}${missing}. ${WEBGPU_HINT}`);
  }
}

// Browsers withhold the adapter's description from wgpu (its name comes back empty); the
// vendor and architecture they do publish name it well enough (e.g. "google swiftshader").
async function browserAdapterName() {
  try {
    const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    const info = adapter && adapter.info;
    return info ? [info.vendor, info.architecture].filter(Boolean).join(' ') : '';
  } catch {
    return '';
  }
}

async function showAdapter(lab) {
  let adapter = lab.adapter().trim();
  if (adapter.startsWith('[')) {
    adapter = `${(await browserAdapterName()) || 'WebGPU adapter'} ${adapter}`;
  }
  $('adapter').textContent = `Adapter: ${adapter} — ${lab.limits()}`;
  // SwiftShader and other software adapters identify as a CPU device.
  const software = /swiftshader|llvmpipe|lavapipe|\bcpu\b/i.test(adapter);
  $('speed-note').textContent = software
    ? 'Your adapter is a CPU fallback, so expect minutes per run rather than seconds.'
    : 'Your adapter looks like a real GPU.';
}

window.shatterPage = {
  state: () => page.state,
  results: () => page.records.map((r) => ({
    setting: r.setting,
    epochs: r.epochs.map((m) => ({ ...m })),
    fittedEpoch: r.fittedEpoch,
    error: r.error,
  })),
};

async function main() {
  colourSwatches();
  const autostart = applyQuery();
  drawCharts();

  $('controls-form').addEventListener('submit', (event) => {
    event.preventDefault();
    startRuns();
  });
  $('stop').addEventListener('click', stopRuns);
  $('reset').addEventListener('click', resetRuns);
  // The preview is cheap, so it follows every change of the settings or the seed.
  for (const box of document.querySelectorAll('input[name="setting"]')) box.addEventListener('change', drawPreview);
  $('label-p').addEventListener('change', drawPreview);
  $('seed').addEventListener('change', drawPreview);

  setStatus('loading', 'Loading the WebGPU lab…');
  try {
    page.lab = await openLab();
  } catch (error) {
    const message = errorMessage(error);
    showError(message);
    setStatus('error', 'Could not open the lab; see the error above.');
    return;
  }
  await showAdapter(page.lab);
  setStatus('idle', 'Ready. Choose the data settings and press Start.');
  drawPreview();
  if (autostart) startRuns();
}

main();
