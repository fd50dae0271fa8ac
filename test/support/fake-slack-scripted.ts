/** A fake Slack incoming webhook on loopback: records every POST and answers from a script of statuses. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackRequest {
  path: string;
  contentType: string | undefined;
  body: { text?: string; blocks?: unknown[] };
}

export interface FakeSlack {
  url: string;
  requests: SlackRequest[];
  close(): Promise<void>;
}

/** `script`: the status of each answer in turn (then 200 "ok"); `{ status, retryAfter }` for 429s. */
export async function startFakeSlack(
  script: (number | { status: number; retryAfter?: number })[] = [],
): Promise<FakeSlack> {
  const requests: SlackRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: SlackRequest['body'] = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SlackRequest['body'];
      } catch {
        // recorded as an empty body: the test sees it
      }
      requests.push({ path: req.url ?? '', contentType: req.headers['content-type'], body });
      const next = script.shift() ?? 200;
      const { status, retryAfter } =
        typeof next === 'number' ? { status: next, retryAfter: undefined } : next;
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
      res.writeHead(status, headers);
      res.end(status === 200 ? 'ok' : status === 404 ? 'no_service' : 'error');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/services/T000/B000/XXXX`,
    requests,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
