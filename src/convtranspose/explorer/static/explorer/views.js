// The explorer's views: controls, the output row, and five tabs (scatter, gather, phases,
// crop, PyTorch), all drawn from one convtransposeExplorer.compute() result. Every drawn
// cell that stands for an input (i), a tap (t), a kernel weight (k), a position on the full
// stamp row (p) or an output (o) carries data-ref="kind:index"; pointing at one highlights
// every cell related to it in every view (see related()).
(function () {
  "use strict";
  const X = window.convtransposeExplorer;
  const NS = "http://www.w3.org/2000/svg";
  // Okabe and Ito's palette, safe for the common colour-vision deficiencies.
  const PHASE_COLOURS = ["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"];
  const LABEL = 58; // width of the row labels, in pixels
  const STEP_MS = 900;

  const root = document.querySelector(".explorer");
  const $ = (selector) => root.querySelector(selector);
  const state = { params: null, result: null, problem: null, view: "scatter", focus: null,
    step: null, timer: null };

  // --- small helpers ---------------------------------------------------------------------

  const SUB = "₀₁₂₃₄₅₆₇₈₉";
  const sub = (n) => String(n).replace(/\d/g, (d) => SUB[d]);
  const minus = (s) => s.replace(/-/g, "\u2212");

  // A value short enough for a cell: 2, 2.5, 0.333, 1.2e+5, NaN, ∞.
  function fmt(v) {
    if (Number.isNaN(v)) return "NaN";
    if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
    if (Number.isInteger(v) && Math.abs(v) < 1e4) return minus(String(v));
    if (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-2) return minus(v.toExponential(1));
    return minus(String(Number(v.toPrecision(3))));
  }

  function svg(tag, attrs, parent) {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  function html(tag, attrs, parent, text) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    if (parent) parent.appendChild(e);
    return e;
  }

  // A drawing of `cols` columns of square cells with a label column on the left.
  function canvas(container, cols, rows) {
    const width = container.clientWidth || 600;
    const size = Math.max(26, Math.min(42, Math.floor((width - LABEL - 4) / Math.max(cols, 1))));
    const gap = 8;
    const el = svg("svg", { width: LABEL + cols * size + 4, height: rows * (size + gap) + 4,
      class: "drawing" }, container);
    return { el, size, x: (col) => LABEL + col * size, y: (row) => 2 + row * (size + gap),
      label(row, text, ref) {
        const t = svg("text", { x: 4, y: this.y(row) + size / 2, class: "row-label" }, el);
        t.textContent = text;
        if (ref) Object.assign(t.dataset, { ref });
      } };
  }

  // One square cell; `ref` makes it part of the linked highlighting, `focus` keyboard-reachable.
  function cell(c, col, row, text, { ref, cls, fill, label, focus, dx } = {}) {
    const g = svg("g", { class: "cell " + (cls || ""),
      transform: `translate(${c.x(col) + (dx || 0)},${c.y(row)})` }, c.el);
    const rect = svg("rect", { width: c.size - 2, height: c.size - 2, x: 1, y: 1, rx: 3 }, g);
    if (fill) rect.style.fill = fill;
    const t = svg("text", { x: c.size / 2, y: c.size / 2 }, g);
    t.textContent = text;
    if (text.length > 4) t.style.fontSize = text.length > 5 ? "9px" : "10px"; // 0.125, −0.25
    if (ref) g.dataset.ref = ref;
    if (label) {
      svg("title", {}, g).textContent = label;
      g.setAttribute("aria-label", label);
    }
    if (focus) g.setAttribute("tabindex", "0");
    return g;
  }

  // --- what is related to what -----------------------------------------------------------

  function related(focus) {
    const r = state.result, refs = new Set();
    if (!focus || !r || r.error) return refs;
    const addTap = (t) => {
      const tap = r.taps[t];
      ["t:" + t, "i:" + tap.i, "k:" + tap.k, "p:" + tap.position].forEach((x) => refs.add(x));
      if (tap.output !== null) refs.add("o:" + tap.output);
    };
    let { kind, index } = focus;
    if (kind === "p" && index - r.padding >= 0 && index - r.padding < r.length) {
      kind = "o";
      index -= r.padding;
    }
    refs.add(kind + ":" + index);
    if (kind === "o") {
      refs.add("p:" + (index + r.padding));
      r.contributions[index].forEach(addTap);
    } else if (kind === "i") {
      r.stamps[index].forEach(addTap);
    } else if (kind === "t") {
      addTap(index);
    } else {
      r.taps.forEach((tap, t) => { if (tap[kind === "k" ? "k" : "position"] === index) addTap(t); });
    }
    return refs;
  }

  function describe(focus) {
    const r = state.result;
    if (!focus || !r || r.error) return "Point at (or tab to) an output or an input to see what made it.";
    let { kind, index } = focus;
    if (kind === "p" && index - r.padding >= 0 && index - r.padding < r.length) {
      kind = "o";
      index -= r.padding;
    }
    const term = (t) => `x${sub(r.taps[t].i)}·w${sub(r.taps[t].k)}`;
    const product = (t) => `${fmt(r.input[r.taps[t].i])}·${fmt(r.kernel[r.taps[t].k])}`;
    if (kind === "o") {
      const ts = r.contributions[index];
      if (!ts.length) return `y${sub(index)} = 0: no tap lands on it (a gap between stamps).`;
      return `y${sub(index)} = ${ts.map(term).join(" + ")} = ${ts.map(product).join(" + ")} = ` +
        fmt(r.output[index]);
    }
    if (kind === "i") {
      const outs = r.stamps[index].map((t) => r.taps[t].output).filter((o) => o !== null);
      return `x${sub(index)} = ${fmt(r.input[index])} stamps x${sub(index)}·w at positions ` +
        r.stamps[index].map((t) => r.taps[t].position).join(", ") + " of the full row" +
        (outs.length ? `, onto outputs ${outs.join(", ")}.` : "; padding crops all of them.");
    }
    if (kind === "k") {
      return `w${sub(index)} = ${fmt(r.kernel[index])} lands ${index}·dilation = ` +
        `${index * r.dilation} after each input's start (every ${r.stride}, the stride).`;
    }
    if (kind === "t") return `${term(index)} = ${product(index)} = ${fmt(r.taps[index].value)}`;
    const ts = r.taps.map((_, t) => t).filter((t) => r.taps[t].position === index);
    return `Position ${index} of the full row (${ts.map(term).join(" + ") || "no tap"}) is ` +
      "cropped by padding: it is not in the output.";
  }

  function applyFocus() {
    const refs = related(state.focus);
    if (state.view === "gather" && !state.timer) drawGatherWindow();
    root.classList.toggle("focused", refs.size > 0);
    for (const e of root.querySelectorAll("[data-ref]")) e.classList.toggle("hl", refs.has(e.dataset.ref));
    $(".caption").textContent = describe(state.focus);
  }

  function setFocus(target) {
    const ref = target && target.closest ? target.closest("[data-ref]") : null;
    const focus = ref ? { kind: ref.dataset.ref[0], index: Number(ref.dataset.ref.slice(2)) } : null;
    if (JSON.stringify(focus) === JSON.stringify(state.focus)) return;
    state.focus = focus;
    applyFocus();
  }

  // --- the views -------------------------------------------------------------------------

  const LEADS = {
    scatter: "Each input sample stamps a copy of the kernel, scaled by its value, every " +
      "stride positions; where stamps overlap they add. Shaded cells are cropped by padding.",
    gather: "The same output, gathered: insert stride − 1 zeros between the inputs, pad, and " +
      "slide the flipped kernel over it. Only real inputs are multiplied (0·∞ would be NaN).",
    phases: "Outputs fall into stride phases; each phase is fed by its own subset of taps. " +
      "On a constant input, unequal phase sums are the checkerboard.",
    crop: "The full stamp row, and the window of it that is the output: padding cuts from " +
      "both ends, output_padding gives back on the right.",
    pytorch: "The same case in PyTorch: copy it into a notebook.",
  };

  function drawScatter(box) {
    const r = state.result, n = r.input.length, shown = state.step === null ? n : state.step;
    const c = canvas(box, r.span, n + 1);
    r.stamps.forEach((taps, i) => {
      c.label(i, `x${sub(i)} = ${fmt(r.input[i])}`, "i:" + i);
      if (i >= shown) return;
      for (const t of taps) {
        const tap = r.taps[t];
        cell(c, tap.position, i, fmt(tap.value), { ref: "t:" + t, cls: `stamp s${i % 2}`,
          label: `x${i}·w${tap.k} = ${X.py(tap.value)} at position ${tap.position}` });
      }
    });
    const sums = new Array(r.span).fill(0);
    r.taps.forEach((tap) => { if (tap.i < shown) sums[tap.position] += tap.value; });
    c.label(n, "sum");
    sums.forEach((v, p) => {
      const kept = p >= r.padding && p < r.padding + r.length;
      cell(c, p, n, fmt(v), { ref: "p:" + p, cls: kept ? "sum" : "cropped",
        label: `position ${p}: ${X.py(v)}` + (kept ? ` (output ${p - r.padding})` : " (cropped)") });
    });
    return `stamp ${shown} of ${n}`;
  }

  function drawGather(box) {
    const r = state.result, g = r.gather, k = r.kernel.length;
    const c = canvas(box, g.cells.length, 3);
    c.label(0, "padded");
    g.cells.forEach((z, j) => {
      if (z.kind === "input") {
        cell(c, j, 0, fmt(r.input[z.i]), { ref: "i:" + z.i, cls: "input",
          label: `x${z.i} = ${X.py(r.input[z.i])}` });
      } else {
        cell(c, j, 0, "0", { cls: z.kind, label: z.kind === "pad" ? "padding zero" : "inserted zero" });
      }
    });
    c.label(1, "flipped");
    c.label(2, "output");
    const done = state.step === null ? r.length : state.step + 1;
    const centre = (r.dilation * (k - 1) * c.size) / 2;
    r.output.forEach((v, o) => {
      cell(c, o, 2, o < done ? fmt(v) : "", { ref: "o:" + o, dx: centre,
        label: `output ${o}: ${X.py(v)}` });
    });
    state.gatherCanvas = c;
    drawGatherWindow();
    return state.step === null ? "all windows" : `window ${state.step + 1} of ${r.length}`;
  }

  // The flipped kernel under output o's window: the animation step, else the output pointed at.
  function drawGatherWindow() {
    const r = state.result, c = state.gatherCanvas;
    if (!c || !c.el.isConnected) return;
    const old = c.el.querySelector(".window");
    if (old) old.remove();
    const pointed = state.focus && state.focus.kind === "o" ? state.focus.index : 0;
    const o = state.step === null ? pointed : state.step;
    const group = svg("g", { class: "window" }, c.el);
    const k = r.kernel.length;
    const inner = { ...c, el: group };
    svg("rect", { x: c.x(o), y: c.y(0) - 1, width: (r.dilation * (k - 1) + 1) * c.size,
      height: 2 * c.size + 9, class: "window-frame" }, group);
    for (let j = 0; j < k; j++) {
      const tap = k - 1 - j; // the flipped kernel's j-th entry is w[K-1-j]
      cell(inner, o + j * r.dilation, 1, fmt(r.kernel[tap]), { ref: "k:" + tap, cls: "tap",
        label: `w${tap} = ${X.py(r.kernel[tap])}` });
    }
  }

  function drawPhases(box) {
    const r = state.result, colour = (q) => PHASE_COLOURS[q % PHASE_COLOURS.length];
    const k = r.kernel.length;
    const c = canvas(box, Math.max(r.length, k), 2);
    c.label(0, "output");
    r.output.forEach((v, o) => {
      const g = cell(c, o, 0, fmt(v), { ref: "o:" + o, fill: colour(r.phaseOf[o]), cls: "phase",
        label: `output ${o}, phase ${r.phaseOf[o]}: ${X.py(v)}` });
      svg("text", { x: c.size - 6, y: 8, class: "tag" }, g).textContent = r.phaseOf[o];
    });
    c.label(1, "kernel");
    r.kernel.forEach((v, j) => {
      const q = (j * r.dilation) % r.stride;
      const g = cell(c, j, 1, fmt(v), { ref: "k:" + j, fill: colour(q), cls: "phase",
        label: `w${j} = ${X.py(v)}, feeds phase ${q}` });
      svg("text", { x: c.size - 6, y: 8, class: "tag" }, g).textContent = q;
    });
    const list = html("ul", { class: "phases" }, box);
    for (const ph of r.phases) {
      const li = html("li", {}, list);
      html("span", { class: "swatch", style: `background:${colour(ph.r)}` }, li);
      const taps = ph.taps.map((j) => `w${sub(j)}`).join(" + ") || "no tap";
      li.append(`phase ${ph.r}: ${taps} = ${fmt(ph.sum)} (${ph.outputs} output${ph.outputs === 1 ? "" : "s"})`);
    }
    const sums = r.phases.map((ph) => ph.sum);
    html("p", {}, box, sums.every((s) => Object.is(s, sums[0]) || s === sums[0])
      ? `Every phase sums to ${fmt(sums[0])}: on a constant input the middle of the output is flat.`
      : `Phase sums ${sums.map(fmt).join(", ")} differ: on a constant input the middle of the ` +
        "output alternates between them (the checkerboard).");
  }

  function drawCrop(box) {
    const r = state.result, c = canvas(box, r.span, 2), end = r.padding + r.length;
    c.label(0, "full row");
    r.full.forEach((v, p) => {
      const kept = p >= r.padding && p < end;
      cell(c, p, 0, fmt(v), { ref: "p:" + p, cls: (kept ? "sum" : "cropped") + (p >= r.fullLength ? " extension" : ""),
        label: `position ${p}: ${X.py(v)}` + (kept ? "" : " (cropped)") });
    });
    c.label(1, "output");
    r.output.forEach((v, o) => cell(c, r.padding + o, 1, fmt(v), { ref: "o:" + o,
      label: `output ${o}: ${X.py(v)}` }));
    const right = Math.max(0, r.padding - r.output_padding), beyond = Math.max(0, r.output_padding - r.padding);
    const lines = [`The stamps cover ${r.fullLength} positions: (L_in − 1)·stride + dilation·(K − 1) + 1.`];
    lines.push(r.padding
      ? `padding = ${r.padding} cuts ${r.padding} from the left and ${r.padding} from the right.`
      : "padding = 0 cuts nothing.");
    if (r.output_padding) {
      lines.push(`output_padding = ${r.output_padding} gives back ${r.output_padding - beyond} on ` +
        "the right" + (beyond ? ` and adds ${beyond} position${beyond > 1 ? "s" : ""} no stamp reaches (zero).` : "."));
    }
    lines.push(`The output keeps positions ${r.padding} to ${end - 1}` +
      (right ? `; ${right} cut on the right.` : "."));
    for (const line of lines) html("p", {}, box, minus(line));
  }

  // Python source that reproduces the case with torch.nn.ConvTranspose1d.
  function snippet(r) {
    const num = (v) => Number.isNaN(v) ? "float('nan')" : !Number.isFinite(v)
      ? (v > 0 ? "float('inf')" : "-float('inf')")
      : Number.isInteger(v) && Math.abs(v) < 1e16 ? v.toFixed(1) : String(v);
    const list = (vs) => `[[[${vs.map(num).join(", ")}]]]`;
    const shown = (vs) => `[${vs.map((v) => Number.isInteger(v) ? v.toFixed(1) : X.py(v)).join(", ")}]`;
    return [
      "import torch",
      "from torch import nn",
      "",
      `layer = nn.ConvTranspose1d(1, 1, kernel_size=${r.kernel.length}, stride=${r.stride}, ` +
        `padding=${r.padding}, output_padding=${r.output_padding}, dilation=${r.dilation}, ` +
        "bias=False, dtype=torch.float64)",
      "with torch.no_grad():",
      `    layer.weight.copy_(torch.tensor(${list(r.kernel)}, dtype=torch.float64))`,
      `    y = layer(torch.tensor(${list(r.input)}, dtype=torch.float64))`,
      `print(y[0, 0].tolist())  # the explorer: ${shown(r.output)}`,
    ].join("\n");
  }

  function drawPytorch(box) {
    const code = snippet(state.result);
    const pre = html("pre", { "data-explorer-snippet": "", tabindex: "0" }, box);
    html("code", {}, pre, code);
    const copy = html("button", { type: "button", class: "copy" }, box, "Copy");
    copy.addEventListener("click", () => {
      const done = () => { copy.textContent = "Copied"; };
      const select = () => {
        const range = document.createRange();
        range.selectNodeContents(pre);
        getSelection().removeAllRanges();
        getSelection().addRange(range);
        copy.textContent = "Selected: press Ctrl+C";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(code).then(done, select);
      } else {
        select();
      }
    });
  }

  const VIEWS = { scatter: drawScatter, gather: drawGather, phases: drawPhases, crop: drawCrop,
    pytorch: drawPytorch };

  // --- rendering -------------------------------------------------------------------------

  function encode(v) { return Number.isFinite(v) ? v : X.py(v); } // JSON has no NaN or inf

  function render() {
    const r = state.result, problem = state.problem || r.error;
    const error = $(".error");
    error.hidden = !problem;
    error.textContent = problem || "";
    const out = $("[data-explorer-output]");
    out.replaceChildren();
    out.dataset.values = JSON.stringify(problem ? [] : r.output.map(encode));
    if (problem) out.dataset.error = problem;
    else delete out.dataset.error;
    const p = state.params, sizes = X.SIZES.every((s) => Number.isInteger(p[s]));
    $(".formula").textContent = sizes && p.input.length && p.kernel.length ? minus(
      "L_out = (L_in − 1)·stride − 2·padding + dilation·(K − 1) + output_padding + 1 = " +
      `(${p.input.length} − 1)·${p.stride} − 2·${p.padding} + ${p.dilation}·(${p.kernel.length} − 1)` +
      ` + ${p.output_padding} + 1 = ${X.outputLength(p.input.length, p.kernel.length, p)}`) : "";
    if (!problem) {
      const c = canvas(out, r.length, 1);
      c.label(0, "output");
      r.output.forEach((v, o) => cell(c, o, 0, fmt(v), { ref: "o:" + o, focus: true,
        label: `output ${o}: ${X.py(v)}` }));
    }
    for (const tab of root.querySelectorAll("[role=tab]")) {
      const selected = tab.dataset.view === state.view;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    $("#panel").setAttribute("aria-labelledby", "tab-" + state.view);
    $(".player").hidden = problem || !["scatter", "gather"].includes(state.view);
    $("[data-play=toggle]").textContent = state.timer ? "pause" : "play";
    $(".lead").textContent = minus(LEADS[state.view]);
    const box = $(".figure");
    box.replaceChildren();
    state.gatherCanvas = null;
    $(".progress").textContent = problem ? "" : VIEWS[state.view](box) || "";
    if (problem) html("p", { class: "muted" }, box, "Nothing is computed until every rule holds.");
    for (const e of root.querySelectorAll(".cell[data-ref]")) {
      if (e.dataset.ref[0] === "i" || e.closest(".output")) e.setAttribute("tabindex", "0");
    }
    for (const e of root.querySelectorAll(".row-label[data-ref]")) e.setAttribute("tabindex", "0");
    shareLink();
    applyFocus();
    fit();
  }

  function compute() {
    state.result = state.problem ? { error: state.problem } : X.compute(state.params);
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    state.step = null;
    state.focus = null;
    render();
  }

  // --- controls and state ----------------------------------------------------------------

  function writeControls() {
    const p = state.params;
    $("#input-length").value = p.input.length;
    $("#input-values").value = p.input.map(X.py).join(", ");
    $("#kernel-length").value = p.kernel.length;
    $("#kernel-values").value = p.kernel.map(X.py).join(", ");
    for (const name of X.SIZES) $("#" + name).value = p[name];
  }

  function readControls(changed) {
    const p = state.params, problems = [];
    for (const name of ["input", "kernel"]) {
      const lengthField = $(`#${name}-length`), valuesField = $(`#${name}-values`);
      if (changed === lengthField) {
        const n = Math.round(Number(lengthField.value));
        if (n >= 1 && n <= 64) {
          p[name] = Array.from({ length: n }, (_, j) => (j < p[name].length ? p[name][j] : 1));
          valuesField.value = p[name].map(X.py).join(", ");
        }
      }
      const parsed = X.parseNumbers(valuesField.value, `${name} values`);
      if (parsed.error) problems.push(parsed.error);
      else {
        p[name] = parsed.values;
        if (changed === valuesField && parsed.values.length) lengthField.value = parsed.values.length;
      }
    }
    for (const name of X.SIZES) {
      const text = $("#" + name).value;
      if (text.trim() === "" || !Number.isInteger(Number(text))) problems.push(`${name}: enter a whole number`);
      else p[name] = Number(text);
    }
    state.problem = problems.join("; ") || null;
  }

  function shareLink() {
    const query = X.toQuery(state.params);
    const share = $(".share");
    share.replaceChildren();
    if (location.protocol === "about:") { // srcdoc, in a notebook: no address to link to
      share.append("This case as a query string for the book's explorer page: ");
      html("code", {}, share, "?" + query);
      return;
    }
    try {
      if (!embedded) history.replaceState(null, "", "?" + query + (state.view !== "scatter" ? "&view=" + state.view : ""));
    } catch (error) { /* file:// pages may refuse; the link below still works */ }
    share.append(embedded ? "" : "Link to this case: ");
    const a = html("a", { href: location.pathname + "?" + query + "&view=" + state.view }, share,
      embedded ? "Open this case in a page of its own" : "?" + query);
    if (embedded) a.target = "_blank";
  }

  // Make the hosting iframe as tall as the explorer (same origin: directly; else by message).
  function fit() {
    if (window.parent === window) return;
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height) + 2;
    try {
      if (window.frameElement) {
        window.frameElement.style.height = height + "px";
        return;
      }
    } catch (error) { /* cross-origin (file://): ask the page */ }
    window.parent.postMessage({ convtransposeExplorerHeight: height }, "*");
  }

  function step(delta) {
    const r = state.result, last = state.view === "scatter" ? r.input.length : r.length - 1;
    const now = state.step === null ? (delta > 0 ? -1 : last + 1) : state.step;
    state.step = Math.max(0, Math.min(last, now + delta));
    render();
    return state.step === last;
  }

  function play() {
    if (state.timer) {
      clearInterval(state.timer);
      state.timer = null;
      render();
      return;
    }
    const last = state.view === "scatter" ? state.result.input.length : state.result.length - 1;
    if (state.step === null || state.step >= last) state.step = -1; // start from the beginning
    const tick = () => {
      if (step(1)) {
        clearInterval(state.timer);
        state.timer = null;
        render();
      }
    };
    state.timer = setInterval(tick, STEP_MS);
    tick();
  }

  const embedded = window.parent !== window || new URLSearchParams(location.search).has("embed");
  root.classList.toggle("embedded", embedded);
  const preset = document.querySelector("meta[name=explorer-query]");
  const start = X.fromQuery(preset ? preset.content : location.search);
  state.params = start.params;
  state.problem = start.problems.join("; ") || null;
  if (start.view in VIEWS) state.view = start.view;
  writeControls();
  compute();

  root.querySelector(".controls").addEventListener("input", (event) => {
    readControls(event.target);
    compute();
  });
  root.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button && button.dataset.query !== undefined) {
      const next = X.fromQuery(button.dataset.query);
      state.params = next.params;
      state.problem = null;
      writeControls();
      compute();
    } else if (button && button.dataset.step) {
      const field = $("#" + button.dataset.for);
      field.value = Number(field.value || 0) + Number(button.dataset.step);
      readControls(field);
      compute();
    } else if (button && button.dataset.view) {
      if (state.timer) clearInterval(state.timer);
      Object.assign(state, { view: button.dataset.view, step: null, timer: null });
      render();
    } else if (button && button.dataset.play) {
      const action = button.dataset.play;
      if (action === "toggle") play();
      else {
        if (state.timer) clearInterval(state.timer);
        state.timer = null;
        if (action === "all") {
          state.step = null;
          render();
        } else step(action === "forward" ? 1 : -1);
      }
    } else {
      setFocus(event.target); // a tap on a touch screen
    }
  });
  // Arrow keys move between the tabs (the ARIA tabs pattern).
  root.querySelector("[role=tablist]").addEventListener("keydown", (event) => {
    const tabs = [...root.querySelectorAll("[role=tab]")];
    const at = tabs.indexOf(document.activeElement);
    const move = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (at < 0 || !move) return;
    const next = tabs[(at + move + tabs.length) % tabs.length];
    next.click();
    root.querySelector(`#tab-${next.dataset.view}`).focus();
    event.preventDefault();
  });
  // Arrow keys move along a row of focusable cells (outputs, inputs).
  root.addEventListener("keydown", (event) => {
    const move = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    const ref = event.target.closest && event.target.closest("[data-ref][tabindex]");
    if (!move || !ref) return;
    const row = [...ref.ownerSVGElement.querySelectorAll(`[data-ref^="${ref.dataset.ref[0]}:"][tabindex]`)];
    const next = row[row.indexOf(ref) + move];
    if (next) next.focus();
    event.preventDefault();
  });
  root.addEventListener("pointerover", (event) => setFocus(event.target));
  root.addEventListener("pointerout", (event) => {
    if (event.pointerType === "mouse" && !event.relatedTarget?.closest?.("[data-ref]")) setFocus(null);
  });
  root.addEventListener("focusin", (event) => { if (event.target.closest("[data-ref]")) setFocus(event.target); });
  // Refit whenever the explorer's size changes; in the next frame, since resizing the frame
  // inside the observer's callback would be a "ResizeObserver loop" error.
  if (window.ResizeObserver) new ResizeObserver(() => requestAnimationFrame(fit)).observe(root);
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(render, 150);
  });
})();
