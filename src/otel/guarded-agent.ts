/**
 * The HTTP agents of the OTLP exporter, guarded against a collector that answers and closes before it
 * has read the whole request (a proxy with a body limit, a collector restarting):
 * - the write that then fails (EPIPE, ECONNRESET) can surface on a keep-alive socket the agent has
 *   already taken back from the request, where nothing listens: an uncaught error that ends the
 *   process. Every socket of a guarded agent has an error listener; the request still gets its error.
 * - the answer, even a 2xx, does not acknowledge a request the collector never read in full: it is
 *   turned into a 503, which the SDK's transport retries and reports as a retryable failure.
 * The SDK's transport takes an agent factory, not a request hook; the per-request part subscribes to
 * Node's `http.client.request.start` diagnostics channel and acts only on requests of guarded agents.
 */
import { subscribe } from 'node:diagnostics_channel';
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

const guarded = new WeakSet<Agent>();
const watched = new WeakSet<Socket>();
const ignore = () => {};

/** The status message of an answer that came before the request was written in full. */
export const EARLY_ANSWER = 'collector answered before reading the whole request';

function watch(socket: Socket): void {
  if (watched.has(socket)) return;
  watched.add(socket);
  socket.on('error', ignore);
}

subscribe('http.client.request.start', (message) => {
  const request = (message as { request: ClientRequest & { agent?: Agent } }).request;
  if (!request.agent || !guarded.has(request.agent)) return;
  // the request may have its socket already (Node publishes the channel once it is assigned)
  if (request.socket) watch(request.socket);
  request.on('socket', watch);
  request.once('response', (res: IncomingMessage) => {
    if (request.writableFinished) return;
    res.statusCode = 503;
    res.statusMessage = EARLY_ANSWER;
  });
});

/** Guards the agents an SDK agent factory makes. */
export function guardAgentFactory(
  factory: (protocol: string) => Agent | Promise<Agent>,
): (protocol: string) => Promise<Agent> {
  return async (protocol) => {
    const agent = await factory(protocol);
    guarded.add(agent);
    return agent;
  };
}
