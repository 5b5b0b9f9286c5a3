/**
 * Guard (`deno lint`, so `deno task check`): `src/decide/` is pure. Its files never name
 * `Deno`, `fetch`, `performance`, `Date` or `crypto`: files, clock, randomness and the network
 * arrive as arguments from the loop, which gets them from `src/main.ts`. And it depends on
 * nothing above it (rule `no-outward-imports`): a decide/ file imports only other decide/
 * files and, as types only, sense/'s records; never act/, observe/, replay/, `src/config.ts`
 * or the loop. What they share (the outcome vocabulary, `PodRef`, the settings decide/
 * reads) lives in decide/, and they import it from there.
 *
 * A lint plugin rather than a text search: it sees the AST Deno's own linter parses, so a
 * word in a comment or a string is not code and does not count, while every use in code does
 * (a call, a `new`, a type annotation, `globalThis.Date`). A property of another object
 * (`report.date`, `{ fetch: 1 }`, `x.crypto`) is not the global and is left alone.
 */

/** The globals that are effects (or, for `Date`, the wall clock). */
export const FORBIDDEN = new Set(["Deno", "fetch", "performance", "Date", "crypto"]);

/** The directory the rule applies to, with a trailing slash. */
export const DECIDE_DIR = decodeURIComponent(new URL("../src/decide/", import.meta.url).pathname);

/** The directory whose record types decide/ may import (types only), with a trailing slash. */
export const SENSE_DIR = decodeURIComponent(new URL("../src/sense/", import.meta.url).pathname);

/** The global objects a forbidden name can be reached through (`globalThis.Date`). */
const GLOBAL_OBJECTS = new Set(["globalThis", "window", "self"]);

const plugin: Deno.lint.Plugin = {
  name: "decide-purity",
  rules: {
    "no-effects": {
      create(context) {
        if (!context.filename.startsWith(DECIDE_DIR)) return {};
        const report = (node: Deno.lint.Node, name: string) =>
          context.report({
            node,
            message: `src/decide/ is pure: \`${name}\` is an effect (files, clock, randomness, ` +
              `network); take it as an argument built in src/main.ts`,
          });
        return {
          Identifier(node) {
            if (FORBIDDEN.has(node.name) && !isPropertyName(node)) report(node, node.name);
          },
          MemberExpression(node) {
            const { object, property } = node;
            if (
              object.type === "Identifier" && GLOBAL_OBJECTS.has(object.name) &&
              !node.computed && property.type === "Identifier" && FORBIDDEN.has(property.name)
            ) {
              report(node, `${object.name}.${property.name}`);
            }
          },
        };
      },
    },
    "no-outward-imports": {
      create(context) {
        if (!context.filename.startsWith(DECIDE_DIR)) return {};
        const check = (node: Deno.lint.Node, specifier: string, typeOnly: boolean) => {
          const why = outwardImport(context.filename, specifier, typeOnly);
          if (why !== null) context.report({ node, message: why });
        };
        return {
          ImportDeclaration(node) {
            const typeOnly = node.importKind === "type" ||
              (node.specifiers.length > 0 &&
                node.specifiers.every((s) =>
                  s.type === "ImportSpecifier" && s.importKind === "type"
                ));
            check(node, node.source.value, typeOnly);
          },
          ExportNamedDeclaration(node) {
            if (node.source) check(node, node.source.value, node.exportKind === "type");
          },
          ExportAllDeclaration(node) {
            check(node, node.source.value, node.exportKind === "type");
          },
          ImportExpression(node) {
            if (node.source.type === "Literal" && typeof node.source.value === "string") {
              check(node, node.source.value, false);
            }
          },
        };
      },
    },
  },
};
export default plugin;

/**
 * Why a decide/ file at `filename` may not import `specifier`, or null when it may: a
 * relative path inside decide/, or a type-only import from sense/.
 */
export function outwardImport(
  filename: string,
  specifier: string,
  typeOnly: boolean,
): string | null {
  const target = specifier.startsWith(".")
    ? decodeURIComponent(new URL(specifier, `file://${filename}`).pathname)
    : specifier;
  if (target.startsWith(DECIDE_DIR)) return null;
  if (target.startsWith(SENSE_DIR) && typeOnly) return null;
  const shown = target.startsWith(DECIDE_DIR.replace(/decide\/$/, ""))
    ? `src/${target.slice(DECIDE_DIR.length - "decide/".length)}`
    : specifier;
  return `src/decide/ depends on nothing above it: \`${shown}\` is outside decide/ (only ` +
    "decide/ files, and sense/ record types with `import type`, may be imported); move what " +
    "both sides need down into decide/";
}

/**
 * The name is a property of something else, not a reference to the global: `x.Date`,
 * `{ Date: … }`, `{ Date }` excepted (shorthand reads the variable), a method or a class
 * member called `fetch`, an interface field `crypto: …`.
 */
function isPropertyName(node: Deno.lint.Identifier): boolean {
  const parent = node.parent;
  switch (parent.type) {
    case "MemberExpression":
      return parent.property === node && !parent.computed;
    case "Property":
      return parent.key === node && !parent.computed && !parent.shorthand;
    case "MethodDefinition":
    case "PropertyDefinition":
    case "TSPropertySignature":
    case "TSMethodSignature":
      return parent.key === node && !parent.computed;
    default:
      return false;
  }
}
