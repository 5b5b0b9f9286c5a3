/**
 * Guard (`deno lint`, so `deno task check`): `src/decide/` is pure. Its files never name
 * `Deno`, `fetch`, `performance`, `Date` or `crypto`: files, clock, randomness and the network
 * arrive as arguments from the loop, which gets them from `src/main.ts`.
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
  },
};
export default plugin;

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
