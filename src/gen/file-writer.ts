/**
 * Writes files with writeFileSync on a worker thread so that the kernel time of creating ~230K files
 * overlaps with generation on the main thread. Texts are UTF-8 encoded into one transferable buffer per
 * batch (no structured-clone copy). Back-pressure: the main thread blocks (Atomics.wait) while more
 * than `maxPendingBytes` are queued. Content and file set are identical to a synchronous write.
 */
import { Worker } from 'node:worker_threads';

const WORKER_SRC = `
const { parentPort, workerData } = require('node:worker_threads');
const { mkdirSync, writeFileSync } = require('node:fs');
const pending = new Int32Array(workerData.sab);
const dirs = new Set();
parentPort.on('message', (msg) => {
  if (msg === null) { parentPort.postMessage('done'); return; }
  const { paths, ends, buf } = msg;
  const data = Buffer.from(buf);
  let start = 0;
  try {
    for (let i = 0; i < ends.length; i++) {
      const dir = paths[2 * i], file = paths[2 * i + 1];
      if (!dirs.has(dir)) { mkdirSync(dir, { recursive: true }); dirs.add(dir); }
      writeFileSync(file, data.subarray(start, ends[i]));
      start = ends[i];
    }
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.stack) || err) });
  }
  Atomics.sub(pending, 0, Math.ceil(buf.byteLength / 1024));
  Atomics.notify(pending, 0);
});
`;

const BATCH_BYTES = 8 * 1024 * 1024;

export class FileWriter {
  private readonly worker: Worker;
  private readonly pending: Int32Array;
  private readonly maxPendingKb: number;
  private buf: Buffer;
  private off = 0;
  private paths: string[] = [];
  private ends: number[] = [];
  private error: string | null = null;

  constructor(maxPendingBytes = 48 * 1024 * 1024) {
    const sab = new SharedArrayBuffer(4);
    this.pending = new Int32Array(sab);
    this.maxPendingKb = Math.ceil(maxPendingBytes / 1024);
    this.buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.worker = new Worker(WORKER_SRC, { eval: true, workerData: { sab } });
    this.worker.on('message', (m: unknown) => {
      if (m && typeof m === 'object' && 'error' in m) this.error = String((m as { error: string }).error);
    });
  }

  /** Queues a file; returns its size in bytes (UTF-8). */
  write(dir: string, file: string, text: string): number {
    if (this.error) throw new Error(`file writer failed: ${this.error}`);
    const worst = text.length * 3;
    if (this.off + worst > this.buf.length) {
      this.flush();
      if (worst > this.buf.length) this.buf = Buffer.allocUnsafeSlow(worst);
    }
    const n = this.buf.write(text, this.off, 'utf8');
    this.off += n;
    this.paths.push(dir, file);
    this.ends.push(this.off);
    return n;
  }

  private flush(): void {
    if (this.ends.length === 0) return;
    const kb = Math.ceil(this.buf.buffer.byteLength / 1024);
    for (;;) {
      const cur = Atomics.load(this.pending, 0);
      if (cur + kb <= this.maxPendingKb || cur === 0) break;
      Atomics.wait(this.pending, 0, cur, 100);
    }
    Atomics.add(this.pending, 0, kb);
    const ab = this.buf.buffer as ArrayBuffer;
    this.worker.postMessage({ paths: this.paths, ends: this.ends, buf: ab }, [ab]);
    this.buf = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.off = 0;
    this.paths = [];
    this.ends = [];
  }

  /** Flushes, waits until every file is on disk, and stops the worker. */
  async close(): Promise<void> {
    this.flush();
    await new Promise<void>((resolve, reject) => {
      this.worker.on('message', (m: unknown) => {
        if (m === 'done') resolve();
      });
      this.worker.on('error', reject);
      this.worker.postMessage(null);
    });
    await this.worker.terminate();
    if (this.error) throw new Error(`file writer failed: ${this.error}`);
  }
}
