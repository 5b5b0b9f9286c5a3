/** Runs `promtool check metrics` on exposition text; fails loudly when promtool is missing. */

/** Returns promtool's complaints; "" when the text passes. Throws without promtool. */
export async function promtoolCheckMetrics(text: string): Promise<string> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("promtool", {
      args: ["check", "metrics"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(
      `Cannot run "promtool" (Debian package "prometheus": apt-get install prometheus; ` +
        `.ci/run installs it): ${error}`,
    );
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const output = await child.output();
  const decoded = new TextDecoder().decode(output.stdout) +
    new TextDecoder().decode(output.stderr);
  if (!output.success) return decoded.trim() || `promtool exited with ${output.code}`;
  return decoded.trim();
}
