// The throughput graph: processed, failed and enqueued jobs per second, drawn as SVG (no chart library).
import { append, h, number } from "./dom.js";

const series = [
  { key: "processed", label: "processed" },
  { key: "failed", label: "failed" },
  { key: "enqueued", label: "enqueued" },
];

/** data: {bucket_seconds, buckets: [{at, processed, failed, enqueued}]} from GET /stats/throughput. */
export function throughputChart(data) {
  const width = 800, height = 220, left = 48, right = 10, top = 12, bottom = 26;
  const buckets = data.buckets || [];
  const step = data.bucket_seconds || 1;
  const rate = (b, key) => (b[key] || 0) / step;
  const max = Math.max(1, ...buckets.flatMap((b) => series.map((s) => rate(b, s.key))));
  const niceMax = nice(max);
  const x = (i) => left + (buckets.length <= 1 ? 0 : (i * (width - left - right)) / (buckets.length - 1));
  const y = (v) => top + (height - top - bottom) * (1 - v / niceMax);
  const svg = h("svg:svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-labelledby": "throughput-summary" });
  for (const fraction of [0, 0.5, 1]) {
    const value = niceMax * fraction;
    append(svg, h("svg:line", { class: "axis", x1: left, x2: width - right, y1: y(value), y2: y(value) }));
    append(svg, h("svg:text", { x: left - 6, y: y(value) + 4, "text-anchor": "end" }, formatRate(value)));
  }
  if (buckets.length > 0) {
    const label = (i) => new Date(buckets[i].at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    append(svg, h("svg:text", { x: left, y: height - 6 }, label(0)));
    append(svg, h("svg:text", { x: width - right, y: height - 6, "text-anchor": "end" }, label(buckets.length - 1)));
  }
  for (const s of series) {
    const points = buckets.map((b, i) => `${x(i).toFixed(1)},${y(rate(b, s.key)).toFixed(1)}`).join(" ");
    append(svg, h("svg:polyline", { points, fill: "none", "stroke-width": 2, "vector-effect": "non-scaling-stroke", "data-series": s.key }));
  }
  const totals = Object.fromEntries(series.map((s) => [s.key, buckets.reduce((sum, b) => sum + (b[s.key] || 0), 0)]));
  const minutes = Math.round((buckets.length * step) / 60);
  const summary = `Over the last ${minutes} minutes: ${number.format(totals.processed)} processed, ${number.format(totals.failed)} failed, ${number.format(totals.enqueued)} enqueued.`;
  const last = buckets[buckets.length - 1];
  return h("figure", { class: "chart panel", "data-chart": "throughput" },
    svg,
    h("figcaption", {},
      h("div", { class: "legend" }, series.map((s) =>
        h("span", { "data-swatch": s.key }, `${s.label} ${last ? formatRate(rate(last, s.key)) : "0"}/s`))),
      h("p", { id: "throughput-summary", class: "muted" }, summary)));
}

function nice(value) {
  const power = Math.pow(10, Math.floor(Math.log10(value)));
  for (const m of [1, 2, 2.5, 5, 10]) if (value <= m * power) return m * power;
  return 10 * power;
}

function formatRate(value) {
  return value >= 10 ? number.format(Math.round(value)) : value.toFixed(value === 0 ? 0 : 1);
}
