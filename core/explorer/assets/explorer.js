// logitscope's logits explorer: one vector of logits in; softmax(z / T), its top-k table, the entropy, the top-p
// cut and the logits-vs-probabilities chart out, recomputed in the browser on every move of T, k or top-p.
// Shared as is by the Streamlit component (ui/explorer.py) and the offline HTML report (core/report.py):
// no dependencies, no requests. The data contract is written down in core/explorer/payload.py.

const SVG = 'http://www.w3.org/2000/svg';
// core/charts/common.py's palette and plotly_white's greys
const COLOUR = { logit: '#636EFA', prob: '#EF553B', reference: '#B6B6B6', topP: '#00A88F', grid: '#EBF0F8', text: '#2a3f5f' };
const PAGE_STEPS = 5; // PageUp / PageDown move T by half a decade on the grid's 10 steps per decade
const COMMIT_DELAY_MS = 150; // key presses reach the server once the keys pause this long

// ---------------------------------------------------------------- numbers
/** The logits as float64, from little-endian float32 or float64 bytes in base64 (exact either way). */
export function decodeLogits(base64, dtype) {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  const values = dtype === 'float32' ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
  return Float64Array.from(values);
}

/** z - max z: every entry <= 0, so exp((z - max) / T) never overflows, for any T > 0. */
export function shifted(z) {
  let max = -Infinity;
  for (const v of z) if (v > max) max = v;
  return z.map((v) => v - max);
}

/** softmax((z - max) / T) in one pass: its normaliser, its entropy in bits, and p(i) for any class. */
export function softmaxAt(s, temperature) {
  let sum = 0;
  let weighted = 0; // sum of e^x * x, so that H = log S - (sum e^x x) / S  (log p = x - log S)
  for (let i = 0; i < s.length; i++) {
    const x = s[i] / temperature;
    const e = Math.exp(x);
    sum += e;
    if (e > 0) weighted += e * x;
  }
  const p = (i) => Math.exp(s[i] / temperature) / sum;
  return { sum, p, entropyBits: (Math.log(sum) - weighted / sum) / Math.LN2 };
}

/** The indices of the k largest values, largest first, ties to the lower index (the product's one ranking).
 * A heap of the k best so far, its worst at the root: n log k, not a full sort of n. */
export function topK(z, k) {
  const before = (a, b) => z[a] > z[b] || (z[a] === z[b] && a < b);
  const heap = [];
  const down = (i) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && before(heap[worst], heap[l])) worst = l;
      if (r < heap.length && before(heap[worst], heap[r])) worst = r;
      if (worst === i) return;
      [heap[i], heap[worst]] = [heap[worst], heap[i]];
      i = worst;
    }
  };
  for (let i = 0; i < z.length; i++) {
    if (heap.length < k) {
      heap.push(i); // sift up
      for (let c = heap.length - 1, parent; c > 0 && before(heap[(parent = (c - 1) >> 1)], heap[c]); c = parent) {
        [heap[c], heap[parent]] = [heap[parent], heap[c]];
      }
    } else if (before(i, heap[0])) {
      heap[0] = i;
      down(0);
    }
  }
  return heap.sort((a, b) => (before(a, b) ? -1 : 1));
}

/** Every index by value, largest first, ties to the lower index: sorted once, for the top-p walk. */
export function order(z) {
  return Int32Array.from(z.keys()).sort((a, b) => z[b] - z[a] || a - b);
}

/** How many classes top-p keeps: the fewest most likely ones whose total reaches p (core.numerics.top_p_mask). */
export function topPCount(ranked, soft, topP) {
  let before = 0; // the mass strictly above the next class
  let n = 0;
  for (const i of ranked) {
    const p = soft.p(i);
    if (topP >= 1 ? p <= 0 : before >= topP) break;
    before += p;
    n += 1;
  }
  return n;
}

// ---------------------------------------------------------------- text
/** Python's format(x, "g"): 6 significant digits, no trailing zeros, exponent past 1e-5 / 1e6. */
export function formatG(x) {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const exponent = Number(x.toExponential(5).split('e')[1]);
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, power] = x.toExponential(5).split('e');
    return `${mantissa.replace(/\.?0+$/, '')}e${power[0] === '-' ? '-' : '+'}${power.replace(/^[-+]/, '').padStart(2, '0')}`;
  }
  return x.toFixed(Math.max(0, 5 - exponent)).replace(/\.?0+$/, '');
}

/** core.query.format_probability: "95.664%", "0.012%", or "3.10e-09" when a percentage would read 0.000%. */
export function formatProbability(p) {
  if (p >= 1e-5 || p === 0 || !Number.isFinite(p)) return `${(p * 100).toFixed(3)}%`;
  const [mantissa, power] = p.toExponential(2).split('e');
  return `${mantissa}e${power[0]}${power.slice(1).padStart(2, '0')}`;
}

/** A template of core/i18n with {name}, {name:g} or {name:.2f} fields, filled in. */
export function fill(template, params) {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (field, name, spec) => {
    const value = params[name];
    if (value === undefined) return field;
    if (spec === 'g') return formatG(value);
    const fixed = /^\.(\d+)f$/.exec(spec || '');
    return fixed ? value.toFixed(Number(fixed[1])) : String(value);
  });
}

// ---------------------------------------------------------------- the chart (SVG, drawn here)
const CHART = { width: 700, plot: 226, left: 60, right: 60, top: 78 }; // and below the plot, room for the names

function svg(tag, attributes = {}, parent = null) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (parent) parent.appendChild(node);
  return node;
}

/** Round ticks covering [low, high] (and 0), about `count` of them. */
export function niceTicks(low, high, count = 5) {
  const lo = Math.min(0, low);
  const hi = Math.max(0, high, lo + 1e-12);
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw);
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks = [];
  for (let v = first; v < hi + step * (1 - 1e-9); v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

function shortLabel(text, limit = 18) {
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

/** The chart's fixed parts for these classes: axes, tick labels, class names, one bar per class and series. */
function buildChart(box, view) {
  box.replaceChildren();
  const rows = view.chartRows;
  const tilted = rows.length > 6; // many names: tilted, so they never overlap
  const plotW = CHART.width - CHART.left - CHART.right;
  const plotH = CHART.plot;
  const height = CHART.top + plotH + (tilted ? 96 : 36);
  const root = svg('svg', { viewBox: `0 0 ${CHART.width} ${height}`, role: 'img', class: 'lx-svg' }, box);
  const chart = { root, title: svg('text', { x: 8, y: 22, class: 'lx-title' }, root), bars: [] };
  const logits = rows.map((i) => view.z[i]);
  const ticks = niceTicks(Math.min(...logits), Math.max(...logits));
  const [lo, hi] = [ticks[0], ticks[ticks.length - 1]];
  chart.yLogit = (v) => CHART.top + plotH * (1 - (v - lo) / (hi - lo));
  chart.yProb = (p) => CHART.top + plotH * (1 - p);
  for (const v of ticks) {
    const y = chart.yLogit(v);
    svg('line', { x1: CHART.left, x2: CHART.left + plotW, y1: y, y2: y, stroke: COLOUR.grid, 'stroke-width': v === 0 ? 2 : 1 }, root);
    svg('text', { x: CHART.left - 6, y: y + 4, 'text-anchor': 'end', class: 'lx-tick' }, root).textContent = formatG(v);
  }
  for (let i = 0; i <= 5; i++) {
    const y = chart.yProb(i / 5);
    svg('text', { x: CHART.left + plotW + 6, y: y + 4, class: 'lx-tick' }, root).textContent = `${i * 20}%`;
  }
  const axisTitle = (text, x, colour) => {
    const node = svg('text', { transform: `translate(${x} ${CHART.top + plotH / 2}) rotate(-90)`, 'text-anchor': 'middle', style: `fill: ${colour}`, class: 'lx-axis' }, root);
    node.textContent = text;
  };
  axisTitle(view.strings.logit, 16, COLOUR.logit);
  axisTitle(view.strings.probability, CHART.width - 10, COLOUR.prob);
  const slot = plotW / rows.length;
  rows.forEach((index, n) => {
    const x = CHART.left + slot * (n + 0.5);
    const name = svg('text', { transform: `translate(${x} ${CHART.top + plotH + 16}) rotate(${tilted ? -35 : 0})`, 'text-anchor': tilted ? 'end' : 'middle', class: 'lx-tick' }, root);
    name.textContent = shortLabel(view.labels[index]);
    svg('title', {}, name).textContent = view.labels[index];
    const group = { x, slot, rects: ['logit', 'prob', 'reference'].map((kind) => svg('rect', { fill: COLOUR[kind], class: `lx-bar-${kind}` }, root)) };
    const [logitBar] = group.rects;
    const [y0, y1] = [chart.yLogit(0), chart.yLogit(view.z[index])].sort((a, b) => a - b);
    logitBar.setAttribute('y', y0);
    logitBar.setAttribute('height', Math.max(0.5, y1 - y0));
    chart.bars.push(group);
  });
  chart.cut = svg('line', { y1: CHART.top - 4, y2: CHART.top + plotH, stroke: COLOUR.topP, 'stroke-dasharray': '6 4', 'stroke-width': 2 }, root);
  chart.cutText = svg('text', { y: CHART.top - 8, 'text-anchor': 'middle', style: `fill: ${COLOUR.topP}`, class: 'lx-tick' }, root);
  chart.legend = svg('g', { transform: `translate(8 ${CHART.top - 34})`, class: 'lx-legend' }, root);
  return chart;
}

function drawLegend(chart, entries) {
  chart.legend.replaceChildren();
  let x = 0;
  for (const [text, colour] of entries) {
    svg('rect', { x, y: -9, width: 12, height: 12, fill: colour }, chart.legend);
    const label = svg('text', { x: x + 16, y: 1, class: 'lx-tick' }, chart.legend);
    label.textContent = text;
    x += 30 + 6.2 * [...text].reduce((w, ch) => w + (ch.charCodeAt(0) > 0x2e80 ? 2 : 1), 0); // about 12 px text
  }
}

/** What moves with T: the probability bars, the grey T = 1 bars, the top-p cut, the title and legend. */
function drawChart(chart, view, probs, reference, kept) {
  const series = reference ? 3 : 2;
  chart.bars.forEach((group, n) => {
    const width = (group.slot * 0.8) / series;
    const left = group.x - (group.slot * 0.8) / 2;
    const values = [null, probs[n], reference ? reference[n] : null];
    group.rects.forEach((rect, s) => {
      rect.setAttribute('x', left + width * s);
      rect.setAttribute('width', Math.max(0.5, width - 1));
      if (s === 0) return; // the logit bar stays put
      rect.setAttribute('visibility', values[s] === null ? 'hidden' : 'visible');
      if (values[s] === null) return;
      const y = chart.yProb(values[s]);
      rect.setAttribute('y', y);
      rect.setAttribute('height', Math.max(0, chart.yProb(0) - y));
    });
  });
  const showCut = kept !== null && kept < chart.bars.length;
  chart.cut.setAttribute('visibility', showCut ? 'visible' : 'hidden');
  chart.cutText.setAttribute('visibility', showCut ? 'visible' : 'hidden');
  if (showCut) {
    const x = chart.bars[kept].x - chart.bars[kept].slot / 2;
    for (const [name, value] of [['x1', x], ['x2', x], ['x', x]]) (name === 'x' ? chart.cutText : chart.cut).setAttribute(name, value);
    chart.cutText.textContent = 'top-p';
  }
  const s = view.strings;
  const title = fill(s.title, { k: chart.bars.length, temperature: view.temperature });
  chart.title.textContent = title;
  chart.root.setAttribute('aria-label', title);
  const entries = [[s.logit, COLOUR.logit], [fill(s.probability_at, { t: formatG(view.temperature) }), COLOUR.prob]];
  if (reference) entries.push([fill(s.probability_at, { t: '1' }), COLOUR.reference]);
  drawLegend(chart, entries);
}

// ---------------------------------------------------------------- the explorer
let counter = 0;
const COLUMNS = ['rank', 'label', 'logit', 'probability', 'cumulative']; // the top-k table, in this order
const TALL_ROWS = 16; // more rows than this scroll inside the table's box
const WINDOW_ROWS = 60; // more rows than this: only this many are in the page at once, around the scroll position
const MARGIN_ROWS = 20; // of them, above the first row in view
const ROW_PX = 30; // the height of a row in such a window (explorer.css: .lx-virtual)

/** Probability as text: "95.664%" (formatProbability), or "0.6590" as tutorials print them (the Logits Lab). */
function probabilityText(p, decimal) {
  if (!decimal) return formatProbability(p);
  return p === 0 || p >= 1e-4 || !Number.isFinite(p) ? p.toFixed(4) : p.toExponential(2);
}

/** Mount the explorer into `root` (explorer.html's skeleton) for `data` (core/explorer/payload.py).
 * options.onCommit(settings) hears {temperature, k, top_p} when the user lets go of a control.
 * Returns {update(data), settings()}. */
export function mount(root, data, options = {}) {
  const part = (name) => root.querySelector(`.lx-${name}`);
  const el = {
    tLabel: part('t-label'), tValue: part('t-value'), range: part('t-range'), typed: part('t-typed'),
    kBox: part('k'), kLabel: part('k-label'), k: part('k-input'), pBox: part('p'), p: part('p-range'), pValue: part('p-value'),
    error: part('error'), summary: part('summary'), table: part('table'), caption: part('caption'),
    head: part('head'), body: part('body'), chart: part('chart'), scroll: part('scroll'),
  };
  const id = `lx-${++counter}`;
  const view = { rows: [], chartRows: [] };
  let given = null; // the settings Python last asked for, and that ask's number: only a new ask wins over the user's
  let chart = null;
  let committed = null;
  let timer = null;

  function load(next) {
    view.strings = next.strings;
    view.labels = next.labels;
    view.z = decodeLogits(next.logits, next.dtype);
    view.s = shifted(view.z);
    view.ranked = null;
    view.rankOf = null;
    view.revision = next.revision;
    view.reference = next.reference !== false;
    view.kMax = Math.max(1, Math.min(next.k_max, view.z.length));
    // rows "top": the top-k by logit, ranked; rows "all": every class in the given order, those past `shown` as one row
    view.all = next.rows === 'all';
    root.classList.toggle('lx-all', view.all);
    view.shown = view.all ? Math.max(1, Math.min(next.shown ?? view.z.length, view.z.length)) : null;
    view.restLabel = next.rest_label ?? '';
    view.columns = next.columns ?? COLUMNS;
    view.chartN = next.chart_n ?? null;
    view.decimal = next.probability_format === 'decimal';
    root.lang = next.lang === 'zh' ? 'zh-CN' : 'en';
    const s = next.strings;
    el.tLabel.textContent = s.temperature;
    el.typed.setAttribute('aria-label', s.typed);
    el.kLabel.textContent = s.k;
    el.kBox.hidden = !next.show_k;
    el.k.max = view.kMax;
    el.pBox.hidden = next.top_p === null || next.top_p === undefined;
    el.head.replaceChildren(...view.columns.map((name) => {
      const th = document.createElement('th');
      th.scope = 'col';
      th.className = `lx-col-${name}`;
      return th;
    }));
    el.headOf = Object.fromEntries(view.columns.map((name, c) => [name, el.head.children[c]]));
    const fixed = {
      rank: s.col_rank, label: s.col_label, logit: s.col_logit, cumulative: s.col_cumulative,
      reference: view.decimal ? s.col_p_t1 : s.col_reference, top_p: 'top-p',
    }; // the probability and top-k headers name T and k: written as they move
    for (const [name, th] of Object.entries(el.headOf)) if (name in fixed) th.textContent = fixed[name];
  }

  /** The ranking by logit (ties to the lower index) and each class's place in it: sorted once per set of logits. */
  function ranking() {
    if (!view.ranked) {
      view.ranked = order(view.z);
      view.rankOf = new Int32Array(view.z.length);
      view.ranked.forEach((index, n) => { view.rankOf[index] = n; });
    }
    return view.ranked;
  }

  function setGrid(values, temperature) {
    view.grid = [...values];
    if (!view.grid.includes(temperature)) view.grid = [...view.grid, temperature].sort((a, b) => a - b);
    el.range.max = view.grid.length - 1;
  }

  function apply(settings) {
    setGrid(view.grid, settings.temperature);
    view.index = view.grid.indexOf(settings.temperature);
    view.k = Math.max(1, Math.min(Math.round(settings.k), view.kMax));
    view.topP = el.pBox.hidden ? null : settings.top_p;
    el.k.value = view.k;
    if (view.topP !== null) el.p.value = view.topP;
  }

  function cell(tr, name, text) {
    const td = document.createElement('td');
    td.className = `${name === 'label' ? 'lx-label' : 'lx-num'} lx-col-${name}`;
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  /** One class's row: its fixed cells written (rank, label, logit, top-k tick, p at T = 1), the others by writeRows. */
  function makeRow(n) {
    const index = view.rows[n];
    const text = {
      rank: String(view.all ? view.rankOf[index] + 1 : n + 1),
      label: view.labels[index],
      logit: view.z[index].toFixed(4),
      top_k: view.all && view.rankOf[index] < view.k ? '✓' : '',
      reference: probabilityText(view.atOne.rows[n], view.decimal),
    };
    const tr = document.createElement('tr');
    tr.n = n;
    tr.cellOf = Object.fromEntries(view.columns.map((name) => [name, cell(tr, name, text[name] ?? '')]));
    if (view.virtual) tr.setAttribute('aria-rowindex', String(n + 2)); // the header is row 1
    return tr;
  }

  function spacer() {
    const tr = document.createElement('tr');
    tr.className = 'lx-spacer';
    tr.setAttribute('aria-hidden', 'true');
    const td = document.createElement('td');
    td.colSpan = view.columns.length;
    tr.appendChild(td);
    return tr;
  }

  /** The rows for these k (the table's fixed cells, and the chart's bars): rebuilt when k or the logits change.
   * Many rows (the Lab's thousand classes) are a window: only the rows in view and a margin are in the page, between
   * two spacers as tall as the rows they stand for (a redraw then lays out sixty rows, not a thousand). */
  function rebuildRows() {
    view.rest = view.all && view.shown < view.z.length;
    if (view.all) {
      ranking();
      view.rows = Array.from({ length: view.shown }, (_, i) => i);
    } else view.rows = topK(view.z, view.k);
    view.chartRows = view.chartN ? topK(view.z, Math.min(view.chartN, view.z.length)) : view.rows;
    const one = softmaxAt(view.s, 1); // the probabilities at T = 1 never move: computed once per set of rows
    view.atOne = { rows: view.rows.map((i) => one.p(i)), chart: view.chartRows.map((i) => one.p(i)) };
    if (view.rest) view.atOne.rest = restTotal(one);
    view.virtual = view.rows.length > WINDOW_ROWS;
    root.classList.toggle('lx-virtual', view.virtual);
    if (view.virtual) el.table.setAttribute('aria-rowcount', String(view.rows.length + 1 + (view.rest ? 1 : 0)));
    else el.table.removeAttribute('aria-rowcount');
    view.restRow = null;
    if (view.rest) { // the classes past `shown`: one row with their total, no rank, logit or ticks of its own
      const tr = document.createElement('tr');
      tr.className = 'lx-rest';
      const text = { label: view.restLabel, reference: probabilityText(view.atOne.rest, view.decimal) };
      tr.cellOf = Object.fromEntries(view.columns.map((name) => [name, cell(tr, name, text[name] ?? '')]));
      view.restRow = tr;
    }
    view.spacers = view.virtual ? [spacer(), spacer()] : null;
    view.window = null;
    setWindow(windowAt(el.scroll.scrollTop));
    el.scroll.classList.toggle('lx-tall', view.rows.length + (view.rest ? 1 : 0) > TALL_ROWS);
    chart = buildChart(el.chart, view);
  }

  /** The rows [from, to) to have in the page for a scroll position (every row while there are few). */
  function windowAt(scrollTop) {
    const n = view.rows.length;
    if (!view.virtual) return [0, n];
    const from = Math.max(0, Math.min(n - WINDOW_ROWS, Math.floor(scrollTop / ROW_PX) - MARGIN_ROWS));
    return [from, Math.min(n, from + WINDOW_ROWS)];
  }

  function setWindow([from, to]) {
    if (view.window && view.window[0] === from && view.window[1] === to) return;
    view.window = [from, to];
    view.windowRows = Array.from({ length: to - from }, (_, i) => makeRow(from + i));
    const parts = [...view.windowRows];
    if (view.virtual) {
      const [above, below] = view.spacers;
      above.firstChild.style.height = `${from * ROW_PX}px`;
      below.firstChild.style.height = `${(view.rows.length - to) * ROW_PX}px`;
      parts.unshift(above);
      parts.push(below);
    }
    if (view.restRow) parts.push(view.restRow);
    el.body.replaceChildren(...parts);
    if (view.drawn) writeRows();
  }

  function render() {
    const temperature = view.grid[view.index];
    view.temperature = temperature;
    const s = view.strings;
    const text = `T = ${formatG(temperature)}`;
    el.range.value = view.index;
    el.range.setAttribute('aria-valuetext', text);
    el.tValue.textContent = text;
    if (root.getRootNode().activeElement !== el.typed) el.typed.value = formatG(temperature);
    const soft = softmaxAt(view.s, temperature);
    const probs = view.rows.map((i) => soft.p(i));
    const chartProbs = view.chartRows === view.rows ? probs : view.chartRows.map((i) => soft.p(i));
    let kept = null;
    if (view.topP !== null) {
      kept = topPCount(ranking(), soft, view.topP); // T never changes the ranking: sorted once
      el.pValue.textContent = formatG(view.topP);
    }
    let cumulative = 0;
    const running = probs.map((p) => (cumulative += p));
    const rest = view.rest ? restTotal(soft) : null;
    const head = el.headOf;
    const probabilityHead = fill(view.decimal ? s.col_p : s.col_probability, { temperature });
    if (head.probability) head.probability.textContent = probabilityHead;
    if (head.top_k) head.top_k.textContent = `top-${view.k}`;
    if (head.top_p && view.topP !== null) head.top_p.title = `top-p = ${formatG(view.topP)}`;
    root.classList.toggle('lx-at-one', temperature === 1);
    el.caption.textContent = fill(view.all ? s.caption_all : s.caption, { k: view.rows.length, temperature });
    view.drawn = { probs, running, kept };
    writeRows();
    if (view.restRow?.cellOf.probability) view.restRow.cellOf.probability.textContent = probabilityText(rest, view.decimal);
    const hMax = Math.log2(view.z.length);
    let summary = fill(s.entropy, { h: soft.entropyBits.toFixed(3), h_max: hMax.toFixed(3) });
    if (kept !== null) summary += ` · ${fill(s.top_p_kept, { p: formatG(view.topP), n: kept, total: view.z.length })}`;
    el.summary.textContent = summary;
    const reference = view.reference && temperature !== 1 ? view.atOne.chart : null;
    drawChart(chart, view, chartProbs, reference, kept);
    // the raw float64 numbers of what is shown, for tests and anything else that reads the page
    root.dataset.state = JSON.stringify({
      temperature, k: view.k, top_p: view.topP, indices: view.rows, probabilities: probs, cumulative: running,
      rest_probability: rest, entropy_bits: soft.entropyBits, top_p_count: kept, chart_indices: view.chartRows,
    });
  }

  /** Write the last redraw's numbers into the rows in the page (probability, cumulative, the top-p tick). */
  function writeRows() {
    const { probs, running, kept } = view.drawn;
    for (const tr of view.windowRows) {
      const n = tr.n;
      const cells = tr.cellOf;
      const inTopP = kept !== null && (view.all ? view.rankOf[view.rows[n]] < kept : n < kept);
      if (cells.probability) cells.probability.textContent = probabilityText(probs[n], view.decimal);
      if (cells.cumulative) cells.cumulative.textContent = probabilityText(running[n], view.decimal);
      const tick = inTopP ? '✓' : '';
      if (cells.top_p && cells.top_p.textContent !== tick) cells.top_p.textContent = tick;
      tr.classList.toggle('lx-kept', !view.all && inTopP);
      tr.classList.toggle('lx-cut', !view.all && kept !== null && n === kept - 1 && kept < view.rows.length);
    }
  }

  /** The total probability of the classes past `shown` (the rest row). */
  function restTotal(soft) {
    let total = 0;
    for (let i = view.shown; i < view.z.length; i++) total += soft.p(i);
    return total;
  }

  function settings() {
    return { temperature: view.grid[view.index], k: view.k, top_p: view.topP };
  }

  function commit(delay = 0) {
    clearTimeout(timer);
    const send = () => {
      const now = settings();
      // stamped, so a choice is news to Python even when it equals one it overrode since
      if (options.onCommit && JSON.stringify(now) !== JSON.stringify(committed)) options.onCommit({ ...now, at: Date.now() });
      committed = now;
    };
    if (delay) timer = setTimeout(send, delay);
    else send();
  }

  function moveTo(index) {
    view.index = Math.max(0, Math.min(index, view.grid.length - 1));
    el.error.hidden = true;
    render();
  }

  const KEYS = { ArrowRight: 1, ArrowUp: 1, ArrowLeft: -1, ArrowDown: -1, PageUp: PAGE_STEPS, PageDown: -PAGE_STEPS };
  el.range.addEventListener('keydown', (event) => {
    let index = null;
    if (event.key in KEYS) index = view.index + KEYS[event.key];
    else if (event.key === 'Home') index = 0;
    else if (event.key === 'End') index = view.grid.length - 1;
    if (index === null) return;
    event.preventDefault(); // the explorer moves the thumb itself, so every key redraws in this handler
    moveTo(index);
    commit(COMMIT_DELAY_MS);
  });
  el.range.addEventListener('input', () => moveTo(Number(el.range.value)));
  let scrolled = false;
  el.scroll.addEventListener('scroll', () => { // a window of rows follows the scroll
    if (scrolled || !view.virtual) return;
    scrolled = true;
    requestAnimationFrame(() => { scrolled = false; setWindow(windowAt(el.scroll.scrollTop)); });
  }, { passive: true });
  el.range.addEventListener('change', () => commit()); // a pointer let go
  el.typed.addEventListener('change', () => {
    const value = Number(el.typed.value.trim().replace(',', '.'));
    const [low, high] = [view.grid[0], view.grid[view.grid.length - 1]];
    if (!el.typed.value.trim() || !Number.isFinite(value) || value < low || value > high) {
      el.error.textContent = fill(view.strings.bad_temperature, { text: el.typed.value, low, high });
      el.error.hidden = false;
      return;
    }
    setGrid(view.grid, value); // a typed T is kept exactly, as temperature_options(include=...) does
    moveTo(view.grid.indexOf(value));
    commit();
  });
  el.k.addEventListener('input', () => {
    const k = Number(el.k.value);
    if (!Number.isInteger(k) || k < 1 || k > view.kMax) return;
    view.k = k;
    rebuildRows();
    render();
  });
  el.k.addEventListener('change', () => commit());
  el.p.addEventListener('input', () => {
    view.topP = Number(el.p.value);
    render();
  });
  el.p.addEventListener('change', () => commit());

  /** New data from Python: new logits are reloaded, and its settings win over the user's only when they are a new
   * ask (`ask`, a number Python raises for each; without it, settings that differ from the last ones given). */
  function update(next) {
    const asked = { temperature: next.temperature, k: next.k, top_p: next.top_p ?? null, ask: next.ask ?? null };
    const fresh = next.revision !== view.revision;
    const newAsk = given === null || (asked.ask !== null ? asked.ask !== given.ask : JSON.stringify(asked) !== JSON.stringify(given));
    if (!fresh && !newAsk) return;
    const keep = newAsk ? asked : settings(); // the user's settings, unless Python asks anew
    if (fresh) load(next);
    given = asked;
    if (!view.grid || fresh) setGrid(next.temperatures, keep.temperature);
    apply(keep);
    if (newAsk) committed = settings(); // what Python asked for needs no sending back
    rebuildRows();
    render();
  }

  el.range.id = `${id}-t`;
  el.tLabel.htmlFor = el.range.id;
  el.table.setAttribute('aria-describedby', `${id}-summary`);
  el.summary.id = `${id}-summary`;
  update(data);
  return { update, settings };
}

/** The report's explorers: each JSON data block (`script.lx-data`) next to its `.lx-root`,
 * in a hidden box that is shown once mounted (and its section's static table and chart hidden, by CSS).
 * onCommit(box, settings), if given, hears each explorer's settings as the reader lets go of a control. */
export function mountAll(scope, onCommit = null) {
  const shared = new Map();
  for (const script of scope.querySelectorAll('script.lx-data')) {
    const data = JSON.parse(script.textContent);
    if (typeof data.labels === 'string') {
      // one label list for every image of a report, kept once in the page
      if (!shared.has(data.labels)) shared.set(data.labels, JSON.parse(scope.getElementById(data.labels).textContent));
      data.labels = shared.get(data.labels);
    }
    const box = script.parentElement;
    mount(box.querySelector('.lx-root'), data, { onCommit: (settings) => onCommit?.(box, settings) });
    box.hidden = false;
    box.closest('section')?.classList.add('lx-on');
  }
}
