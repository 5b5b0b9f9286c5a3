import assert from "node:assert/strict";

Deno.test("deno task demo runs the whole loop and deletes the pod that caused the pressure", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../demo/demo.ts", import.meta.url).pathname],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  assert.match(text, /filling: 1\/6 samples above threshold/);
  assert.match(text, /delete shop\/db-0 → deleted/);
  assert.match(text, /pod=shop\/web-1 .* status=below psi threshold/);
  assert.match(text, /cooldown/);
  assert.match(text, /^ {4}GET \/api\/v1\/pods\?fieldSelector=spec\.nodeName%3Ddemo-node/m);
  assert.match(text, /^ {4}DELETE \/api\/v1\/namespaces\/shop\/pods\/db-0$/m);
  // Issue 21: the early warning comes first, as an Event on db-0.
  const warning = text.search(/Early warning: container postgres of shop\/db-0 is projected/);
  assert.ok(warning > 0 && warning < text.search(/delete shop\/db-0 → deleted/), "warned first");
  assert.match(text, /Warning {2}SoftOOMKillLikely {2}kube-soomkiller {2}Container postgres/);
});
