/**
 * Minimal assertions for the kernel tests (JSR's `@std/assert` is not
 * reachable from this project's machines).
 *
 * @module
 */

/** Throws when `cond` is falsy. */
export function assert(cond: unknown, msg = "assertion failed"): asserts cond {
  if (!cond) throw new Error(msg);
}

/** Deep equality over primitives, arrays and typed arrays; throws with both values. */
export function assertEquals(
  actual: unknown,
  expected: unknown,
  msg = "",
): void {
  const a = JSON.stringify(normalize(actual)),
    e = JSON.stringify(normalize(expected));
  if (a !== e) {
    const cut = (s: string) => (s.length > 400 ? s.slice(0, 400) + "..." : s);
    throw new Error(
      `${msg ? msg + ": " : ""}expected ${cut(e)}, got ${cut(a)}`,
    );
  }
}

function normalize(v: unknown): unknown {
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    return Array.from(v as Uint8Array);
  }
  return v;
}
