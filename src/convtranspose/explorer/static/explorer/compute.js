// The explorer's arithmetic: the definition of conv_transpose1d for one channel, the
// package's argument checks (same order, same wording as convtranspose/arguments.py), and
// the query string that holds a case. Everything the views draw comes from compute().
// Tests drive compute() in Chromium against torch (tests/test_explorer.py).
(function (root) {
  "use strict";

  const OP = "conv_transpose1d";
  const SIZES = ["stride", "padding", "output_padding", "dilation"];
  const DEFAULTS = { input: [1, 1], kernel: [1, 1, 1], stride: 1, padding: 0, output_padding: 0, dilation: 1 };

  // A number as Python writes it (so messages read like the package's): 2, 2.5, nan, inf.
  function py(v) {
    if (Number.isNaN(v)) return "nan";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "-inf";
    return String(v);
  }

  function pyType(v) {
    if (typeof v === "number") return Number.isInteger(v) ? "int" : "float";
    if (typeof v === "string") return "str";
    if (typeof v === "boolean") return "bool";
    return v === null || v === undefined ? "NoneType" : "object";
  }

  // One size argument as an int: 2 or [2], as the package's `single` reads it.
  function single(value, name) {
    if (Array.isArray(value)) {
      if (value.length !== 1) {
        const error = new Error(
          `expected ${name} to be a single integer value or a list of 1 values to match ` +
          `the convolution dimensions, but got ${name}=[${value.map(py).join(", ")}]`);
        error.python = "RuntimeError";
        throw error;
      }
      value = value[0];
    }
    if (typeof value !== "number" || !Number.isInteger(value)) {
      const error = new TypeError(
        `argument '${name}' must be an int or a tuple of one int, not ${pyType(value)}`);
      error.python = "TypeError";
      throw error;
    }
    return value;
  }

  // The package's checks, in its order; returns the message of the first rule broken.
  function check(input, kernel, a) {
    const { stride, padding, output_padding, dilation } = a;
    if (stride <= 0) return `non-positive stride is not supported: stride must be >= 1, got ${stride}`;
    if (padding < 0) return `negative padding is not supported: padding must be >= 0, got ${padding}`;
    if (dilation <= 0) {
      return `dilation should be greater than zero: dilation must be >= 1, got ${dilation}`;
    }
    if (output_padding < 0) {
      return "negative output_padding is not supported: output_padding must be >= 0, " +
        `got ${output_padding}`;
    }
    const limit = Math.max(stride, dilation);
    if (output_padding >= limit) {
      return "output padding must be smaller than either stride or dilation: " +
        `output_padding < max(stride, dilation) = ${limit}, but got ` +
        `output_padding=${output_padding}, stride=${stride}, dilation=${dilation}`;
    }
    if (kernel.length === 0) {
      return `${OP}: kernel size should be greater than zero, but got weight of size [1, 1, 0]`;
    }
    if (input.length === 0) {
      return `${OP}: input length must be >= 1 (only zero batch or zero channel inputs may be ` +
        "empty), but got input of size [1, 1, 0]";
    }
    const length = outputLength(input.length, kernel.length, a);
    if (length <= 0) {
      return `Given input length ${input.length}, kernel_size=${kernel.length}, stride=${stride}, ` +
        `padding=${padding}, output_padding=${output_padding}, dilation=${dilation}: the ` +
        `calculated output length is ${length}, but it must be >= 1 (output size is too small; ` +
        "reduce padding)";
    }
    return null;
  }

  // (L_in - 1)*stride - 2*padding + dilation*(K - 1) + output_padding + 1
  function outputLength(n, k, a) {
    return (n - 1) * a.stride - 2 * a.padding + a.dilation * (k - 1) + a.output_padding + 1;
  }

  // compute({input, kernel, stride, padding, output_padding, dilation}) -> {output, length, ...}
  // or {error, type}. Input sample i, times tap k, lands on the full (uncropped) row at
  // position i*stride + k*dilation, which is output position - padding.
  function compute(params) {
    const p = Object.assign({}, DEFAULTS, params);
    const input = Array.from(p.input), kernel = Array.from(p.kernel);
    if (![...input, ...kernel].every((v) => typeof v === "number")) {
      return { error: "input and kernel must be lists of numbers", type: "TypeError" };
    }
    const a = {};
    try {
      for (const name of SIZES) a[name] = single(p[name], name);
    } catch (error) {
      return { error: error.message, type: error.python };
    }
    const error = check(input, kernel, a);
    if (error) return { error, type: "RuntimeError" };

    const n = input.length, k = kernel.length;
    const length = outputLength(n, k, a);
    const fullLength = (n - 1) * a.stride + a.dilation * (k - 1) + 1;
    const span = Math.max(fullLength, a.padding + length); // output_padding may pass the stamps
    const full = new Array(span).fill(0), output = new Array(length).fill(0);
    const taps = [], stamps = [], contributions = output.map(() => []);
    for (let i = 0; i < n; i++) {
      stamps.push([]);
      for (let j = 0; j < k; j++) {
        const position = i * a.stride + j * a.dilation, o = position - a.padding;
        const tap = { i, k: j, position, output: o >= 0 && o < length ? o : null,
          value: input[i] * kernel[j] };
        stamps[i].push(taps.length);
        full[position] += tap.value;
        if (tap.output !== null) {
          output[o] += tap.value;
          contributions[o].push(taps.length);
        }
        taps.push(tap);
      }
    }
    // Phases: output o sits at full position o + padding; its taps are those k with
    // k*dilation = o + padding (mod stride).
    const phaseOf = output.map((_, o) => (o + a.padding) % a.stride);
    const phases = Array.from({ length: a.stride }, (_, r) => {
      const ks = kernel.map((_, j) => j).filter((j) => (j * a.dilation) % a.stride === r);
      return { r, taps: ks, sum: ks.reduce((s, j) => s + kernel[j], 0),
        outputs: phaseOf.filter((q) => q === r).length };
    });
    // Gather: the zero-inserted input, padded by dilation*(K-1) - padding on the left
    // (cropped where that is negative) and by that plus output_padding on the right,
    // under a window of the flipped kernel; output o reads cells o, o + dilation, ...
    const left = a.dilation * (k - 1) - a.padding;
    const cells = Array.from({ length: length + a.dilation * (k - 1) }, (_, z) => {
      const q = z - left; // index into the zero-inserted input
      if (q < 0 || q > (n - 1) * a.stride) return { kind: "pad" };
      return q % a.stride === 0 ? { kind: "input", i: q / a.stride } : { kind: "inserted" };
    });
    return {
      input, kernel, ...a, length, output, fullLength, span, full, taps, stamps, contributions,
      phaseOf, phases, gather: { left, cells, flipped: kernel.slice().reverse() },
    };
  }

  // "1, 2.5, nan, -inf" -> {values} or {error}; Python's and JavaScript's spellings both read.
  function parseNumbers(text, name) {
    const words = String(text).split(/[\s,]+/).filter((w) => w !== "");
    const values = [];
    for (const word of words) {
      const w = word.toLowerCase().replace("\u2212", "-");
      const special = { nan: NaN, inf: Infinity, "+inf": Infinity, "-inf": -Infinity,
        infinity: Infinity, "+infinity": Infinity, "-infinity": -Infinity }[w];
      const v = special !== undefined ? special : Number(w);
      if (special === undefined && (Number.isNaN(v) || !/^[-+]?[\d.]/.test(w))) {
        return { error: `${name}: '${word}' is not a number` };
      }
      values.push(v);
    }
    return { values };
  }

  // The case a query string describes (missing parameters keep their defaults).
  function fromQuery(search) {
    const q = new URLSearchParams(search);
    const params = Object.assign({}, DEFAULTS, { kernel: null });
    const problems = [];
    for (const name of ["input", "kernel"]) {
      if (!q.has(name)) continue;
      const parsed = parseNumbers(q.get(name), name);
      if (parsed.error) problems.push(parsed.error);
      else params[name] = parsed.values;
    }
    for (const name of SIZES) {
      if (!q.has(name)) continue;
      const v = Number(q.get(name));
      if (q.get(name).trim() === "" || Number.isNaN(v)) problems.push(`${name}: '${q.get(name)}' is not a number`);
      else params[name] = v;
    }
    if (params.kernel === null) params.kernel = DEFAULTS.kernel.slice(); // ones, as in chapter 2
    return { params, view: q.get("view"), problems };
  }

  function toQuery(params) {
    const parts = [`input=${params.input.map(py).join(",")}`, `kernel=${params.kernel.map(py).join(",")}`];
    for (const name of SIZES) {
      if (params[name] !== DEFAULTS[name]) parts.push(`${name}=${params[name]}`);
    }
    return parts.join("&");
  }

  root.convtransposeExplorer = Object.assign(root.convtransposeExplorer || {}, {
    compute, outputLength, parseNumbers, fromQuery, toQuery, py, DEFAULTS, SIZES,
  });
})(typeof window !== "undefined" ? window : globalThis);
