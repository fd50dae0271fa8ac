/**
 * Who may ask what. The local credential (`<db>.bridge.json`) opens everything, the internal routes
 * only with it; the API token (when set) opens everything else, sent as `Authorization: Bearer T`
 * or, for a browser on the built-in web view, as the `ocbridge_token` cookie that `POST /login` sets
 * (HttpOnly, SameSite=Strict: other sites' pages cannot send it). `/api/health` and `/login` are open.
 * A browser asking for a page without the token is sent to `/login`; everything else gets 401 JSON.
 * Without a token, only loopback `Host` names are answered (host-check.ts, DNS rebinding).
 */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bearerAuth } from 'hono/bearer-auth';
import { getCookie, setCookie } from 'hono/cookie';
import { hostAllowed } from './host-check.ts';
import { LOCAL_CREDENTIAL_HEADER, sameSecret } from './local-credential.ts';

export const TOKEN_COOKIE = 'ocbridge_token';

/** RFC 6750's b64token: what a bearer token may contain. */
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

const isPage = (c: Context) =>
  c.req.method === 'GET' &&
  !/^\/(api|internal|ui)\/|^\/(metrics|openapi\.json)$/.test(c.req.path) &&
  (c.req.header('accept') ?? '').includes('text/html');

export function authMiddleware(
  token: string | undefined,
  localCredential: string | undefined,
  allowedHosts: readonly string[] = [],
): MiddlewareHandler {
  // an empty token (e.g. OCBRIDGE_API_TOKEN= in a compose file) means no token, as before
  const apiToken = token || undefined;
  if (apiToken !== undefined && !TOKEN68.test(apiToken))
    throw new Error(
      'the API token may only contain A-Z a-z 0-9 - . _ ~ + / (then =), as RFC 6750 bearer tokens',
    );
  // Hono's bearer check: 401 without a header or with a wrong token, 400 for a malformed header
  const bearer = apiToken
    ? bearerAuth({
        verifyToken: (token) => sameSecret(token, apiToken),
        noAuthenticationHeader: { message: { error: 'unauthorized' }, wwwAuthenticateHeader: 'Bearer' },
        invalidToken: { message: { error: 'unauthorized' } },
        invalidAuthenticationHeader: { message: { error: 'invalid authorization header' } },
      })
    : null;
  return async (c, next) => {
    const path = c.req.path;
    const local =
      localCredential !== undefined && sameSecret(c.req.header(LOCAL_CREDENTIAL_HEADER), localCredential);
    if (path.startsWith('/internal/')) {
      if (!local) return c.json({ error: 'unauthorized' }, 401);
      return next();
    }
    if (!apiToken && !local && !hostAllowed(c.req.header('host'), allowedHosts))
      return c.json(
        {
          error: 'host not allowed',
          detail:
            'without an API token only loopback Host names and IP addresses are accepted (DNS rebinding): set --api-token, or name this host with --allowed-host',
        },
        403,
      );
    if (path === '/api/health' || path === '/login' || c.req.method === 'OPTIONS' || !apiToken || local)
      return next();
    if (sameSecret(getCookie(c, TOKEN_COOKIE), apiToken)) return next();
    if (isPage(c) && !c.req.header('authorization'))
      return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`, 302);
    return (bearer as MiddlewareHandler)(c, next);
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** Only a path on this server: no scheme, no host, no `//`. */
const safeNext = (n: string | undefined) => (n && /^\/(?![/\\])[^\s]*$/.test(n) ? n : '/');

function loginPage(next: string, failed: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ocbridge · sign in</title><style>body{font:15px system-ui,sans-serif;max-width:24rem;margin:15vh auto;padding:0 1rem;color:#222}
input,button{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.4rem 0}.err{color:#b00020}</style></head>
<body><h1>opencode-otel-bridge</h1><p>This bridge needs its API token (<code>--api-token</code> / <code>OCBRIDGE_API_TOKEN</code>).</p>
${failed ? '<p class="err" role="alert">Wrong token.</p>' : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${esc(next)}">
<label for="token">Token</label><input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Open</button></form></body></html>`;
}

/** GET /login (the form) and POST /login (checks the token, sets the cookie, goes to `next`). */
export function registerLogin(app: OpenAPIHono, apiToken: string | undefined): void {
  app.get('/login', (c) => c.html(loginPage(safeNext(c.req.query('next')), false)));
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const next = safeNext(typeof form.next === 'string' ? form.next : undefined);
    const token = typeof form.token === 'string' ? form.token : undefined;
    if (!apiToken) return c.redirect(next, 303);
    if (!sameSecret(token, apiToken)) return c.html(loginPage(next, true), 401);
    setCookie(c, TOKEN_COOKIE, apiToken, { httpOnly: true, sameSite: 'Strict', path: '/' });
    return c.redirect(next, 303);
  });
}
