/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in
 * the text exposition format 0.0.4. No dependency, no timers, no per-scrape allocation
 * beyond the output text: it runs on a node that is short of memory.
 *
 * ```ts
 * const registry = new Registry();
 * const requests = registry.counter("app_requests_total", "Requests served", ["code"]);
 * requests.inc({ code: "200" });
 * registry.render(); // "# HELP app_requests_total Requests served\n# TYPE ..."
 * ```
 */

/** Label values by label name; every label the metric declares must be given. */
export type Labels = Readonly<Record<string, string>>;

/** The `Content-Type` of {@linkcode Registry.render}'s output. */
export const EXPOSITION_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** What every metric family has: a name, a help text, label names and its series. */
abstract class Metric<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: "counter" | "gauge" | "histogram";
  /** Series by their rendered label set (`{a="x",b="y"}`, or "" without labels). */
  protected readonly series = new Map<string, S>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!METRIC_NAME.test(name)) throw new Error(`Invalid metric name "${name}"`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__")) {
        throw new Error(`Invalid label name "${label}" for metric "${name}"`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  /** The rendered label set, checked against the declared label names. */
  protected key(labels: Labels | undefined): string {
    if (this.labelNames.length === 0) return "";
    let key = "";
    for (const name of this.labelNames) {
      const value = labels?.[name];
      if (value === undefined) {
        throw new Error(`Missing label "${name}" for metric "${this.name}"`);
      }
      key += `${key === "" ? "{" : ","}${name}="${escapeLabelValue(value)}"`;
    }
    return `${key}}`;
  }

  /** Drops one series (a pod that went away). */
  remove(labels?: Labels): void {
    this.series.delete(this.key(labels));
  }

  /** Drops every series. */
  clear(): void {
    this.series.clear();
  }

  /** Number of series. */
  get size(): number {
    return this.series.size;
  }

  /** Appends this family's lines to `out`. */
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    this.renderSeries(out);
  }

  protected abstract renderSeries(out: string[]): void;
}

/** A value that only goes up (resets on restart). Names end in `_total`. */
export class Counter extends Metric<{ value: number }> {
  readonly type = "counter";

  /** Adds `by` (default 1, never negative) to the series of `labels`. */
  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new Error(`Counter "${this.name}" cannot go down (inc by ${by})`);
    const key = this.key(labels);
    const series = this.series.get(key);
    if (series === undefined) this.series.set(key, { value: by });
    else series.value += by;
  }

  /** Current value of one series; 0 when it was never touched. */
  get(labels?: Labels): number {
    return this.series.get(this.key(labels))?.value ?? 0;
  }

  /**
   * Mirrors a counter kept elsewhere (a kernel counter such as `pswpin`): its value as read.
   * A reading lower than the last one is a reset, which PromQL's `rate()` handles.
   */
  mirror(value: number, labels?: Labels): void {
    if (!(value >= 0)) throw new Error(`Counter "${this.name}" cannot be ${value}`);
    this.series.set(this.key(labels), { value });
  }

  protected renderSeries(out: string[]): void {
    for (const [key, { value }] of this.series) {
      out.push(`${this.name}${key} ${formatValue(value)}`);
    }
  }
}

/** A value that goes up and down. */
export class Gauge extends Metric<{ value: number }> {
  readonly type = "gauge";

  set(value: number, labels?: Labels): void {
    const key = this.key(labels);
    const series = this.series.get(key);
    if (series === undefined) this.series.set(key, { value });
    else series.value = value;
  }

  /** Current value of one series; undefined when it is not set. */
  get(labels?: Labels): number | undefined {
    return this.series.get(this.key(labels))?.value;
  }

  protected renderSeries(out: string[]): void {
    for (const [key, { value }] of this.series) {
      out.push(`${this.name}${key} ${formatValue(value)}`);
    }
  }
}

interface HistogramSeries {
  /** Per-bucket (non-cumulative) counts, one per upper bound; +Inf is `count`. */
  readonly buckets: Float64Array;
  sum: number;
  count: number;
}

/** Observations counted in buckets by upper bound, plus their sum and count. */
export class Histogram extends Metric<HistogramSeries> {
  readonly type = "histogram";
  /** Upper bounds, ascending, without +Inf. */
  readonly bounds: readonly number[];

  constructor(
    name: string,
    help: string,
    bounds: readonly number[],
    labelNames: readonly string[],
  ) {
    super(name, help, labelNames);
    if (labelNames.includes("le")) throw new Error(`Histogram "${name}" cannot use label "le"`);
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i]! > bounds[i - 1]!)) {
        throw new Error(`Histogram "${name}" needs ascending bucket bounds`);
      }
    }
    this.bounds = bounds.filter((bound) => bound !== Infinity);
  }

  observe(value: number, labels?: Labels): void {
    const key = this.key(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { buckets: new Float64Array(this.bounds.length), sum: 0, count: 0 };
      this.series.set(key, series);
    }
    const index = this.bounds.findIndex((bound) => value <= bound);
    if (index >= 0) series.buckets[index]!++;
    series.sum += value;
    series.count++;
  }

  /** Cumulative counts per upper bound (the last is +Inf), sum and count of one series. */
  get(labels?: Labels): { cumulative: number[]; sum: number; count: number } | undefined {
    const series = this.series.get(this.key(labels));
    if (series === undefined) return undefined;
    let running = 0;
    const cumulative = [...series.buckets].map((n) => (running += n));
    cumulative.push(series.count);
    return { cumulative, sum: series.sum, count: series.count };
  }

  protected renderSeries(out: string[]): void {
    for (const [key, series] of this.series) {
      // The `le` label goes last, after the declared labels.
      const prefix = key === "" ? "{" : `${key.slice(0, -1)},`;
      let running = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        running += series.buckets[i]!;
        out.push(
          `${this.name}_bucket${prefix}le="${formatValue(this.bounds[i]!)}"} ${running}`,
        );
      }
      out.push(`${this.name}_bucket${prefix}le="+Inf"} ${series.count}`);
      out.push(`${this.name}_sum${key} ${formatValue(series.sum)}`);
      out.push(`${this.name}_count${key} ${series.count}`);
    }
  }
}

/** The set of metric families one endpoint serves. */
export class Registry {
  readonly #metrics = new Map<string, Metric<unknown>>();

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(new Gauge(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    bounds: readonly number[],
    labelNames: readonly string[] = [],
  ): Histogram {
    return this.#add(new Histogram(name, help, bounds, labelNames));
  }

  /** Every family in registration order, in the text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const metric of this.#metrics.values()) metric.render(out);
    out.push("");
    return out.join("\n");
  }

  #add<M extends Metric<unknown>>(metric: M): M {
    if (this.#metrics.has(metric.name)) {
      throw new Error(`Metric "${metric.name}" is already registered`);
    }
    this.#metrics.set(metric.name, metric);
    return metric;
  }
}

/** A label value in the text format: backslash, double quote and line feed escaped. */
export function escapeLabelValue(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replaceAll("\\", "\\\\").replaceAll('"', '\\"').replaceAll("\n", "\\n")
    : value;
}

/** A HELP text in the text format: backslash and line feed escaped. */
function escapeHelp(help: string): string {
  return help.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, `NaN` or a decimal. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
