export function useBundledWorker(url: string): void;
export function jsonWorkerUrl(): URL;
