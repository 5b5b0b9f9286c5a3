import assert from "node:assert/strict";
import fc from "fast-check";
import { podUidFromComponent } from "../../src/sense/cgroup_layout.ts";
import { hex, RUNS } from "./arbitraries.ts";

Deno.test("podUidFromComponent() never throws and gives null or a UID", () => {
  const component = fc.oneof(
    fc.string({ unit: "binary", maxLength: 120 }),
    fc.tuple(
      fc.constantFrom("", "kubepods-", "kubepods-burstable-", "x-"),
      fc.constantFrom("pod", "Pod", "po"),
      fc.oneof(fc.uuid(), hex(0, 40)),
      fc.constantFrom("", ".slice", ".scope", "/"),
    ).map((parts) => parts.join("")),
  );
  fc.assert(
    fc.property(component, (name) => {
      const uid = podUidFromComponent(name);
      if (uid !== null) {
        assert.match(uid, /^(?:[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}|[0-9a-f]{32})$/);
      }
    }),
    RUNS,
  );
});

Deno.test("podUidFromComponent() gives back the UID the kubelet put in the name, every driver", () => {
  const uid = fc.uuid().map((u) => u.toLowerCase());
  fc.assert(
    fc.property(uid, fc.constantFrom("burstable", "besteffort", ""), (uid, qos) => {
      const systemd = uid.replaceAll("-", "_");
      const names = [
        `kubepods-${qos ? qos + "-" : ""}pod${systemd}.slice`,
        `kubelet-kubepods-${qos ? qos + "-" : ""}pod${systemd}.slice`,
        `pod${uid}`,
      ];
      for (const name of names) assert.equal(podUidFromComponent(name), uid, name);
    }),
    RUNS,
  );
  // Static pods: a 32-hex UID (the hash of the manifest).
  fc.assert(
    fc.property(fc.stringMatching(/^[0-9a-f]{32}$/), (hash) => {
      assert.equal(podUidFromComponent(`kubepods-besteffort-pod${hash}.slice`), hash);
      assert.equal(podUidFromComponent(`pod${hash}`), hash);
    }),
    RUNS,
  );
});
