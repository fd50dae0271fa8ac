/**
 * Model-ID normalisation, so that an OpenCode (providerID, modelID) pair finds a price even when the
 * provider spells the model differently from the vendor:
 *   openrouter      anthropic/claude-sonnet-4.5, openai/gpt-5, google/gemini-2.5-pro:free
 *   amazon-bedrock  us.anthropic.claude-sonnet-4-20250514-v1:0
 *   google-vertex   claude-sonnet-4-5@20250929, models/gemini-2.5-pro
 *   github-copilot  claude-sonnet-4.5, claude-3.7-sonnet-thought, claude-opus-41
 *   anthropic       claude-sonnet-4-5-20250929 (dated), claude-3-7-sonnet-latest
 */

/** Providers whose models are the upstream vendors' models under another name. */
export const UPSTREAM_VENDORS = ['anthropic', 'openai', 'google'] as const;
export type UpstreamVendor = (typeof UPSTREAM_VENDORS)[number];

/** Providers that bill by subscription; OpenCode records cost 0 for them. */
export const SUBSCRIPTION_PROVIDERS: ReadonlySet<string> = new Set(['github-copilot']);

const BEDROCK_REGIONS = /^(us|eu|apac|au|jp|ca|global|us-gov)\./;
const OPENROUTER_VARIANTS = /:(free|thinking|extended|exacto|beta|nitro|floor|online)$/;

/** Strips provider decoration and canonicalises versions. Idempotent. */
export function normalizeModelId(modelId: string): string {
  let id = modelId.trim().toLowerCase();
  // vendor/model (openrouter, litellm style) and models/… (Gemini); keep the last path segment.
  const slash = id.lastIndexOf('/');
  if (slash >= 0) id = id.slice(slash + 1);
  id = id.replace(OPENROUTER_VARIANTS, '');
  // Bedrock: region prefix, vendor prefix, -v1:0 suffix.
  id = id.replace(BEDROCK_REGIONS, '');
  id = id.replace(/^(anthropic|openai|google|meta|amazon)\./, '');
  id = id.replace(/-v\d+(:\d+)?$/, '');
  // Vertex: @20250929 or @default.
  id = id.replace(/@[a-z0-9-]+$/, '');
  // Claude: dotted versions (4.5 → 4-5), Copilot's "41" (→ 4-1), "-thought"/"-thinking" variants.
  if (id.startsWith('claude')) {
    id = id.replace(/(\d)\.(\d)/g, '$1-$2');
    id = id.replace(/^claude-opus-41$/, 'claude-opus-4-1');
    id = id.replace(/-(thought|thinking)$/, '');
  }
  // Dated snapshots: -20250929, -2025-04-14, and -latest.
  id = id.replace(/-\d{8}$/, '');
  id = id.replace(/-\d{4}-\d{2}-\d{2}$/, '');
  id = id.replace(/-latest$/, '');
  return id;
}

/** True when the ID asks for a provider's free variant (OpenRouter `:free`). */
export function isFreeVariant(modelId: string): boolean {
  return /:free$/i.test(modelId.trim());
}

/** The upstream vendor whose price list a (normalised) model ID belongs to. */
export function inferVendor(modelId: string): UpstreamVendor | undefined {
  const raw = modelId.trim().toLowerCase();
  const id = normalizeModelId(raw);
  if (id.startsWith('claude')) return 'anthropic';
  if (id.startsWith('gemini')) return 'google';
  if (/^(gpt-|o\d|codex|chatgpt)/.test(id)) return 'openai';
  if (raw.startsWith('anthropic/') || raw.startsWith('openai/') || raw.startsWith('google/')) {
    return raw.slice(0, raw.indexOf('/')) as UpstreamVendor;
  }
  return undefined;
}
