/**
 * Guard (`deno task check`): no import cycle among the modules under a directory (default
 * `src/`). The import graph is Deno's own (`deno info --json`), so every kind of import
 * counts: static, dynamic with a literal specifier, and `import type` (a type-only cycle is
 * still two modules that cannot be read one without the other).
 *
 *   deno run --allow-read --allow-write --allow-run tools/check_import_cycles.ts [dir]
 *
 * Exits 1 and prints each cycle (`a.ts → b.ts → a.ts`) when there is one, 0 otherwise.
 */

/** The slice of `deno info --json` this reads. */
interface DenoInfo {
  readonly modules: readonly {
    readonly specifier: string;
    readonly dependencies?: readonly {
      readonly code?: { readonly specifier: string };
      readonly type?: { readonly specifier: string };
    }[];
  }[];
}

/** The import graph of every `.ts` file under `dir`: file URL → the file URLs it imports. */
export async function importGraph(dir: string): Promise<Map<string, Set<string>>> {
  const root = new URL(`file://${await Deno.realPath(dir)}/`);
  const files: string[] = [];
  await collect(root, files);
  // One `deno info` over an entry that imports every file: one process, one graph.
  const scratch = await Deno.makeTempDir({ prefix: "import-cycles-" });
  try {
    const entry = `${scratch}/entry.ts`;
    await Deno.writeTextFile(entry, files.map((f) => `import ${JSON.stringify(f)};\n`).join(""));
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      throw new Error(`deno info failed: ${new TextDecoder().decode(output.stderr)}`);
    }
    const info = JSON.parse(new TextDecoder().decode(output.stdout)) as DenoInfo;
    const graph = new Map<string, Set<string>>();
    for (const module of info.modules) {
      if (!module.specifier.startsWith(root.href)) continue;
      const targets = new Set<string>();
      for (const dependency of module.dependencies ?? []) {
        for (const target of [dependency.code?.specifier, dependency.type?.specifier]) {
          if (target?.startsWith(root.href)) targets.add(target);
        }
      }
      graph.set(module.specifier, targets);
    }
    return graph;
  } finally {
    await Deno.remove(scratch, { recursive: true });
  }
}

async function collect(dir: URL, files: string[]): Promise<void> {
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isDirectory) await collect(new URL(`${entry.name}/`, dir), files);
    else if (entry.isFile && entry.name.endsWith(".ts")) files.push(new URL(entry.name, dir).href);
  }
}

/**
 * One cycle per strongly connected component of more than one module (or a module that
 * imports itself), each as the modules in import order with the first repeated at the end.
 * Tarjan's algorithm; pure.
 */
export function findCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node)!, index.get(next)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || graph.get(node)?.has(node)) components.push(component);
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) visit(node);
  return components.map((component) => cycleThrough(graph, new Set(component)));
}

/** A shortest cycle from the component's first module (by name) back to itself. */
function cycleThrough(
  graph: ReadonlyMap<string, ReadonlySet<string>>,
  component: ReadonlySet<string>,
): string[] {
  const start = [...component].sort()[0]!;
  const cameFrom = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift()!;
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!component.has(next)) continue;
      if (next === start) {
        const path = [node];
        while (path[0] !== start) path.unshift(cameFrom.get(path[0]!)!);
        return [...path, start];
      }
      if (!cameFrom.has(next)) {
        cameFrom.set(next, node);
        queue.push(next);
      }
    }
  }
  return [start, start];
}

/** The check's report: the lines to print and whether it passed. */
export async function checkImportCycles(dir: string): Promise<{ ok: boolean; lines: string[] }> {
  const graph = await importGraph(dir);
  const root = `file://${await Deno.realPath(dir)}/`;
  const cycles = findCycles(graph);
  const name = (url: string) => `${dir.replace(/\/+$/, "")}/${url.slice(root.length)}`;
  if (cycles.length === 0) {
    return { ok: true, lines: [`No import cycle among the ${graph.size} modules under ${dir}`] };
  }
  return {
    ok: false,
    lines: [
      `${cycles.length} import cycle${cycles.length === 1 ? "" : "s"} under ${dir}:`,
      ...cycles.map((cycle) => `  ${cycle.map(name).join(" → ")}`),
    ],
  };
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? "src";
  const { ok, lines } = await checkImportCycles(dir);
  (ok ? console.log : console.error)(lines.join("\n"));
  Deno.exit(ok ? 0 : 1);
}
