import assert from "node:assert/strict";
import {
  FAULT_EXIT_CODE,
  faultPermissions,
  injectFault,
  parseFaults,
  readFaults,
} from "./fault.ts";

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

/** Whether `promise` is still pending after the event loop has turned a few times. */
async function pending(promise: Promise<unknown>): Promise<boolean> {
  const marker = Symbol("pending");
  const timer = new Promise((resolve) => setTimeout(() => resolve(marker), 20));
  return await Promise.race([promise, timer]) === marker;
}

Deno.test("injectFault: other names and later attempts go on at once; a stall never settles", async () => {
  const faults = parseFaults("stall@1:a.jpg|crash:b.jpg");
  assert.equal(await pending(injectFault(faults, "/in/c.jpg", 1)), false, "c.jpg has no fault");
  assert.equal(await pending(injectFault(faults, "/in/a.jpg", 2)), false, "stall@1: not attempt 2");
  assert.equal(await pending(injectFault([], "/in/b.jpg", 1)), false, "no faults at all");
  // Matched on the base name, whatever the folder.
  assert.equal(await pending(injectFault(faults, "/elsewhere/a.jpg", 1)), true, "stalls");
});

/** Runs injectFault(parseFaults(SPEC), NAME, ATTEMPT) in a fresh process; prints "went on" after. */
function faultProcess(spec: string, name: string, attempt: number): Deno.ChildProcess {
  const module = new URL("./fault.ts", import.meta.url).href;
  const script = `import { injectFault, parseFaults } from ${JSON.stringify(module)};
console.log("started");
await injectFault(parseFaults(${JSON.stringify(spec)}), ${JSON.stringify(name)}, ${attempt});
console.log("went on");`;
  return new Deno.Command(Deno.execPath(), {
    args: ["eval", "--quiet", "--no-config", script],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

Deno.test("injectFault: crash exits the process with FAULT_EXIT_CODE, only on the attempts it names", async () => {
  const crashed = await faultProcess("crash@2:b.jpg", "/in/b.jpg", 2).output();
  assert.equal(crashed.code, FAULT_EXIT_CODE);
  assert.equal(new TextDecoder().decode(crashed.stdout), "started\n");
  const spared = await faultProcess("crash@2:b.jpg", "/in/b.jpg", 3).output();
  assert.equal(spared.code, 0);
  assert.equal(new TextDecoder().decode(spared.stdout), "started\nwent on\n");
});

Deno.test("injectFault: hang spins synchronously (the process stays busy until killed)", async () => {
  const child = faultProcess("hang:h.jpg", "/in/h.jpg", 1);
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  assert.equal((await lines.read()).value, "started\n");
  // Still running well after the fault started: nothing settles a synchronous loop.
  let exited = false;
  child.status.then(() => exited = true);
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(exited, false, "a hung process exited");
  child.kill("SIGKILL");
  const status = await child.status;
  assert.equal(status.signal, "SIGKILL");
  assert.equal((await lines.read()).done, true, "nothing after the hang");
  await child.stderr.cancel();
});

Deno.test("no ZPIX_FAULT: no faults and no extra worker permission", () => {
  const granted = Deno.permissions.querySync({ name: "env", variable: "ZPIX_FAULT" });
  if (granted.state === "granted" && Deno.env.get("ZPIX_FAULT")) return; // set on purpose
  assert.deepEqual(readFaults(), []);
  assert.deepEqual(faultPermissions(), []);
});
