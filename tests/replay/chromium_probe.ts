/**
 * Measures a page in headless Chromium: a script run in the page computes `out` (where
 * things landed, in pixels), the helper writes it into the DOM as JSON and reads it back
 * from the DOM Chromium dumps. Shared by the replay page's tests (html_test.ts,
 * html_legend_test.ts); gate them on `tool(CHROMIUM).skip` from tests/tools.ts.
 */
import assert from "node:assert/strict";

/** Where and how big Chromium opens the page. */
export interface ChromiumProbeOptions {
  /** A temporary directory for the page and Chromium's profile; the caller removes it. */
  readonly dir: string;
  /** The page's file name in `dir`. */
  readonly file: string;
  /** The window size in pixels. */
  readonly width: number;
  readonly height: number;
  /** `--hide-scrollbars`: the viewport keeps its whole width. */
  readonly hideScrollbars?: boolean;
}

/**
 * Loads `html` in headless Chromium with `measure` run at the end of its body, and returns
 * the `out` that script computed (parsed JSON: the caller says its shape). `measure` is
 * JavaScript that declares `const out = …;`, starting and ending with a newline.
 */
export async function probeInChromium(
  html: string,
  measure: string,
  options: ChromiumProbeOptions,
): Promise<unknown> {
  const script = `<script>${measure}const pre = document.createElement("pre");
pre.id = "probe";
pre.textContent = JSON.stringify(out);
document.body.append(pre);
</script>`;
  const file = `${options.dir}/${options.file}`;
  await Deno.writeTextFile(file, html.replace("</body>", `${script}\n</body>`));
  const out = await new Deno.Command("chromium", {
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      ...(options.hideScrollbars ? ["--hide-scrollbars"] : []),
      `--user-data-dir=${options.dir}/profile`,
      `--window-size=${options.width},${options.height}`,
      "--virtual-time-budget=5000",
      "--dump-dom",
      `file://${file}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(90_000),
  }).output();
  const dom = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const probeText = /<pre id="probe">([^<]*)<\/pre>/.exec(dom)?.[1];
  assert.ok(probeText, `no probe in the DOM Chromium dumped: ${dom.slice(0, 300)}`);
  return JSON.parse(
    probeText.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&"),
  );
}
