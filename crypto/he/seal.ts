/**
 * Loading node-seal (Microsoft SEAL compiled to WebAssembly) once per thread, releasing its
 * objects, and reading its failures.
 *
 * node-seal 7 exposes the Emscripten bindings directly: every object lives on the WASM heap and
 * must be released with `.delete()`; the heap is never garbage-collected and never shrinks. The
 * module is instantiated through Emscripten's documented `instantiateWasm` hook so that the
 * module's `WebAssembly.Memory` can be measured ({@link wasmHeapBytes}); that is the measure the
 * tests use to show the heap stays flat.
 */
import { readFile } from 'node:fs/promises';
import initialize, { type MainModule } from 'node-seal';

/** The node-seal module (Emscripten bindings of SEAL 4.1). */
export type Seal = MainModule;

/** The WASM binary of the build whose bindings throw on transparent ciphertexts (node-seal's default export). */
const WASM_FILE = './seal_throws.wasm';

interface Loaded {
  seal: Seal;
  memory: WebAssembly.Memory | undefined;
}

let loading: Promise<Loaded> | undefined;
let loaded: Loaded | undefined;

async function instantiate(): Promise<Loaded> {
  const wasmUrl = new URL(WASM_FILE, import.meta.resolve('node-seal'));
  const module = await WebAssembly.compile(await readFile(wasmUrl));
  let memory: WebAssembly.Memory | undefined;
  const failed = Promise.withResolvers<never>();
  const seal = await Promise.race([
    initialize({
      instantiateWasm(
        imports: WebAssembly.Imports,
        done: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
      ) {
        WebAssembly.instantiate(module, imports).then((instance) => {
          memory = Object.values(instance.exports).find((v) => v instanceof WebAssembly.Memory);
          done(instance, module);
        }, failed.reject);
        return {};
      },
    }),
    failed.promise,
  ]);
  return { seal, memory };
}

/** Loads node-seal once per thread (each worker thread has its own WASM instance and heap). */
export async function loadSeal(): Promise<Seal> {
  loading ??= instantiate().then(
    (l) => {
      loaded = l;
      return l;
    },
    (err: unknown) => {
      loading = undefined;
      throw err;
    },
  );
  return (await loading).seal;
}

/**
 * Size in bytes of this thread's WASM heap (0 before {@link loadSeal}). WebAssembly memory only
 * grows, so a heap that does not grow over many rounds of work shows that nothing leaks.
 */
export function wasmHeapBytes(): number {
  return loaded?.memory?.buffer.byteLength ?? 0;
}

/** A node-seal object: it owns WASM memory until `delete()`. */
export interface SealObject {
  delete(): void;
  isDeleted(): boolean;
}

let live = 0;

/**
 * Number of node-seal objects created through an {@link SealArena} of this thread and not yet
 * released. Long-lived objects (a session's context, a key pair) count while they live.
 */
export function liveSealObjects(): number {
  return live;
}

/**
 * Collects node-seal objects so that one `finally { arena.release() }` deletes them all, in
 * reverse order of creation.
 */
export interface SealArena {
  /** Registers `object` for release and returns it. */
  keep<T extends SealObject>(object: T): T;
  /** Deletes every registered object not yet deleted. Idempotent. */
  release(): void;
}

/** Creates an empty {@link SealArena}. */
export function sealArena(): SealArena {
  const objects: SealObject[] = [];
  return {
    keep(object) {
      objects.push(object);
      live++;
      return object;
    },
    release() {
      while (objects.length > 0) {
        const object = objects.pop()!;
        live--;
        if (!object.isDeleted()) object.delete();
      }
    },
  };
}

/**
 * The reason SEAL gave for a failure, as `type: message` (e.g. `std::logic_error: ciphertext
 * data is invalid`). SEAL's messages name the check that failed, never data. A C++ exception
 * reaches JavaScript as a `WebAssembly.Exception` whose `message` node-seal sets to
 * `[type, message]`.
 */
export function sealFailure(err: unknown): string {
  const message: unknown = (err as { message?: unknown } | null)?.message;
  if (Array.isArray(message)) return message.filter((m) => typeof m === 'string').join(': ');
  if (typeof message === 'string') return message;
  return 'unknown failure';
}
