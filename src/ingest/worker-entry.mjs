// Plain JavaScript, shared by the bin and the CLI bundle (an external module of the bundle, so both see
// this module's state): which script a JSON parser thread runs. When the bin runs the bundle, the
// bundle's own json-worker.js (no TypeScript loader: a parser thread starts sooner); else
// json-worker-boot.mjs, which loads json-worker.ts through tsx.

/** @type {string | undefined} */
let bundled;

/** Called by the bin with the URL of the bundle's json-worker.js. */
export function useBundledWorker(/** @type {string} */ url) {
  bundled = url;
}

/** The URL a JSON parser thread is started from. */
export function jsonWorkerUrl() {
  return new URL(bundled ?? './json-worker-boot.mjs', import.meta.url);
}
