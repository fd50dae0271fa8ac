/**
 * OpenCode providerID → `gen_ai.provider.name`: the spec's value where one exists (checked against
 * the pinned `GEN_AI_PROVIDER_NAME_VALUES` by test/otel-units.test.ts), else the ID itself, lower-cased.
 * Spans and metrics both label providers with it.
 */
export const PROVIDER_NAMES: Readonly<Record<string, string>> = {
  anthropic: 'anthropic',
  openai: 'openai',
  azure: 'azure.ai.openai',
  'azure-openai': 'azure.ai.openai',
  'azure-ai-inference': 'azure.ai.inference',
  'amazon-bedrock': 'aws.bedrock',
  bedrock: 'aws.bedrock',
  google: 'gcp.gemini',
  gemini: 'gcp.gemini',
  'google-vertex': 'gcp.vertex_ai',
  'google-vertex-anthropic': 'gcp.vertex_ai',
  vertex: 'gcp.vertex_ai',
  mistral: 'mistral_ai',
  xai: 'x_ai',
  deepseek: 'deepseek',
  groq: 'groq',
  perplexity: 'perplexity',
  cohere: 'cohere',
  'ibm-watsonx': 'ibm.watsonx.ai',
  'github-copilot': 'github_copilot',
  openrouter: 'openrouter',
};

/** The spec's fallback value (`_OTHER`) when a provider is unknown. */
export const UNKNOWN_PROVIDER = '_OTHER';

export function providerName(providerId: string | null | undefined): string {
  if (!providerId) return UNKNOWN_PROVIDER;
  const id = providerId.toLowerCase();
  return PROVIDER_NAMES[id] ?? id;
}
