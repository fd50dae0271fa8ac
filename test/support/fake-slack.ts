/** A fake Slack incoming webhook on loopback: records every POSTed JSON body. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackMessage {
  url: string;
  body: {
    channel?: string;
    username?: string;
    attachments?: { title?: string; text?: string; color?: string; fallback?: string }[];
  };
}

export interface FakeSlack {
  url: string;
  messages: SlackMessage[];
  /** resolves with the first message (already received or arriving later) that matches */
  waitFor(match: (m: SlackMessage) => boolean, timeoutMs: number): Promise<SlackMessage>;
  close(): Promise<void>;
}

export function startFakeSlack(): Promise<FakeSlack> {
  const messages: SlackMessage[] = [];
  const waiters: { match: (m: SlackMessage) => boolean; resolve: (m: SlackMessage) => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const msg: SlackMessage = { url: req.url ?? '', body: JSON.parse(body || 'null') };
      messages.push(msg);
      for (const w of [...waiters]) {
        if (w.match(msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(msg);
        }
      }
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/services/T000/B000/XXXX`,
        messages,
        waitFor(match, timeoutMs) {
          const found = messages.find(match);
          if (found) return Promise.resolve(found);
          return new Promise((res, rej) => {
            const timer = setTimeout(() => {
              rej(new Error(`no matching Slack message in ${timeoutMs} ms; got ${JSON.stringify(messages)}`));
            }, timeoutMs);
            waiters.push({
              match,
              resolve: (m) => {
                clearTimeout(timer);
                res(m);
              },
            });
          });
        },
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
