/**
 * Lazy loading of the Emscripten-built codecs (WebP, AVIF): the glue is
 * imported, and the `.wasm` read and compiled, on the first image that needs
 * it, once per process. The `.wasm` is read with `Deno.readFile` from the
 * installed npm package (`--allow-read` on node_modules only), like
 * `ops/codec.ts` does for MozJPEG. After a call throws (an Emscripten abort,
 * out of memory), the instance is replaced before the next use.
 *
 * @module
 */

/**
 * A codec could not be loaded (a missing package or `.wasm` file, a read
 * the sandbox refuses): a fault of the installation, not of the image, so
 * it is never reported as corrupt data.
 */
export class CodecUnavailableError extends Error {
  override name = "CodecUnavailableError";
}

/** Runs `load`, turning any failure into a {@link CodecUnavailableError} naming `what`. */
export async function loadCodec<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const why = e instanceof Error ? e.message.split("\n")[0] : String(e);
    throw new CodecUnavailableError(`cannot load the ${what} (${why})`, { cause: e });
  }
}

/** Reads and compiles a `.wasm` file named through the import map. */
export async function compileWasm(specifier: string): Promise<WebAssembly.Module> {
  const url = new URL(import.meta.resolve(specifier));
  const bytes = url.protocol === "file:"
    ? await Deno.readFile(url)
    : new Uint8Array(await (await fetch(url)).arrayBuffer());
  return await WebAssembly.compile(bytes);
}

type Factory<T> = (options: Record<string, unknown>) => Promise<T>;

/** One Emscripten module, loaded on first use and renewed after a failure. */
export class LazyModule<T> {
  #load: () => Promise<{ factory: Factory<T>; module: WebAssembly.Module }>;
  #loaded: Promise<{ factory: Factory<T>; module: WebAssembly.Module }> | null = null;
  #instance: T | null = null;
  /** Messages the module printed during the current call. */
  messages: string[] = [];

  /**
   * `what`: the codec's name for messages; `glue`: imports the Emscripten
   * factory; `wasm`: the `.wasm` file's import-map specifier.
   */
  constructor(what: string, glue: () => Promise<{ default: unknown }>, wasm: string) {
    this.#load = () =>
      loadCodec(what, async () => {
        const [g, module] = await Promise.all([glue(), compileWasm(wasm)]);
        return { factory: g.default as Factory<T>, module };
      });
  }

  /** The instance, loading the module first when needed. */
  async get(): Promise<T> {
    if (this.#instance) return this.#instance;
    this.#loaded ??= this.#load();
    this.#loaded.catch(() => (this.#loaded = null));
    const { factory, module } = await this.#loaded;
    this.#instance = await factory({
      noInitialRun: true,
      instantiateWasm: (
        imports: WebAssembly.Imports,
        callback: (i: WebAssembly.Instance) => void,
      ) => {
        const instance = new WebAssembly.Instance(module, imports);
        callback(instance);
        return instance.exports;
      },
      print: (s: string) => this.messages.push(String(s)),
      printErr: (s: string) => this.messages.push(String(s)),
    });
    return this.#instance;
  }

  /** Drops the instance (after it threw): the next {@link get} makes a fresh one. */
  discard(): void {
    this.#instance = null;
  }

  /** Runs `fn` on the instance; if it throws, the instance is discarded and the error rethrown. */
  async run<R>(fn: (instance: T) => R): Promise<R> {
    const instance = await this.get();
    this.messages = [];
    try {
      return fn(instance);
    } catch (e) {
      this.discard();
      throw e;
    }
  }
}

/** Copies an Emscripten result's pixels out of its heap view into a plain Uint8Array. */
export function ownBytes(data: ArrayLike<number> & { buffer: ArrayBufferLike }): Uint8Array {
  return new Uint8Array(data as unknown as Uint8Array);
}
