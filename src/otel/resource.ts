/** The OTel resource of every exported span: who ran OpenCode, where, and which bridge sent it. */
import { arch, hostname, platform, userInfo } from 'node:os';
import { type Resource, resourceFromAttributes } from '@opentelemetry/resources';
import { VERSION } from '../version.ts';
import {
  ATTR_HOST_ARCH,
  ATTR_HOST_NAME,
  ATTR_OS_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_TELEMETRY_DISTRO_NAME,
  ATTR_TELEMETRY_DISTRO_VERSION,
  ATTR_USER_NAME,
} from './semconv.ts';

export const DEFAULT_SERVICE_NAME = 'opencode';

export interface ResourceOptions {
  /** `--service-name`, else `OTEL_SERVICE_NAME`, else `opencode`. */
  serviceName?: string;
  env?: NodeJS.ProcessEnv;
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

/** `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, percent-encoded values) as a map; bad entries are skipped. */
export function parseResourceAttributesEnv(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const pair of raw.split(',')) {
    const i = pair.indexOf('=');
    if (i <= 0) continue;
    const key = pair.slice(0, i).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(i + 1).trim());
    } catch {
      // not valid percent-encoding: skip the entry
    }
  }
  return out;
}

export function resourceAttributes(opts: ResourceOptions = {}): Record<string, string> {
  const env = opts.env ?? process.env;
  const attrs: Record<string, string> = {
    [ATTR_HOST_NAME]: hostname(),
    [ATTR_HOST_ARCH]: arch() === 'x64' ? 'amd64' : arch(),
    [ATTR_OS_TYPE]: platform(),
  };
  const user = safeUser();
  if (user) attrs[ATTR_USER_NAME] = user;
  // what the user sets wins over what is detected (a container's host name is its ID: a team sets
  // host.name, user.name and service.instance.id per bridge, docs/team.md)
  Object.assign(attrs, parseResourceAttributesEnv(env.OTEL_RESOURCE_ATTRIBUTES), {
    [ATTR_TELEMETRY_DISTRO_NAME]: 'opencode-otel-bridge',
    [ATTR_TELEMETRY_DISTRO_VERSION]: VERSION,
  });
  attrs[ATTR_SERVICE_NAME] =
    opts.serviceName ??
    (env.OTEL_SERVICE_NAME || undefined) ??
    attrs[ATTR_SERVICE_NAME] ??
    DEFAULT_SERVICE_NAME;
  return attrs;
}

export function buildResource(opts: ResourceOptions = {}): Resource {
  return resourceFromAttributes(resourceAttributes(opts));
}
