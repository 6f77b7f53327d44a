// The committed kernels.wasm / kernels_wasm.ts must be what build.ts makes
// from assembly/kernels.ts. Needs --allow-read (sources, committed outputs).
import { assertEquals } from "./test_assert.ts";
import { build, compileKernels } from "./build.ts";
import { KERNELS_WASM_BASE64 } from "./kernels_wasm.ts";

Deno.test("build --check: committed wasm matches a fresh deterministic build", async () => {
  assertEquals(await build(true), []);
  const again = await compileKernels();
  assertEquals(again, Uint8Array.fromBase64(KERNELS_WASM_BASE64));
});
