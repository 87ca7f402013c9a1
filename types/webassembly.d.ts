/**
 * The part of the WebAssembly JavaScript API that simchain uses (Node's global, which
 * @types/node 20 does not declare and TypeScript declares only with the DOM library):
 * compiling a module, instantiating it with no imports, its exported memory and functions.
 */
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  type ExportValue = Memory | ((...args: number[]) => number | void);
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, ExportValue>;
  }
}
