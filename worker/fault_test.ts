import assert from "node:assert/strict";
import { faultPermissions, injectFault, parseFaults, readFaults } from "./fault.ts";

Deno.test("parseFaults reads kinds, names and attempt limits; refuses anything else", () => {
  assert.deepEqual(parseFaults("crash:a.jpg|hang@2:dir/b c.png|stall:x"), [
    { kind: "crash", name: "a.jpg", until: null },
    { kind: "hang", name: "dir/b c.png", until: 2 },
    { kind: "stall", name: "x", until: null },
  ]);
  assert.deepEqual(parseFaults(""), []);
  assert.throws(() => parseFaults("explode:a.jpg"), /cannot parse "explode:a.jpg"/);
  assert.throws(() => parseFaults("crash"), /cannot parse/);
});

Deno.test("injectFault does nothing for other names or later attempts", async () => {
  const faults = parseFaults("stall@1:a.jpg|crash:b.jpg");
  await injectFault(faults, "/in/c.jpg", 1);
  await injectFault(faults, "/in/a.jpg", 2);
  await injectFault([], "/in/b.jpg", 1);
});

Deno.test("no ZPIX_FAULT: no faults and no extra worker permission", () => {
  const granted = Deno.permissions.querySync({ name: "env", variable: "ZPIX_FAULT" });
  if (granted.state === "granted" && Deno.env.get("ZPIX_FAULT")) return; // set on purpose
  assert.deepEqual(readFaults(), []);
  assert.deepEqual(faultPermissions(), []);
});
