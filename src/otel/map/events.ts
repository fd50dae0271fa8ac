/** `retry` and `compaction` rows → span events on their parent (docs/otel.md, mapping table). */
import { classifyError } from '../../domain/errors/index.ts';
import {
  ATTR_ERROR_TYPE,
  ATTR_OPENCODE_COMPACTION_AUTO,
  ATTR_OPENCODE_COMPACTION_OVERFLOW,
  ATTR_OPENCODE_ERROR_NAME,
  ATTR_OPENCODE_PART_ID,
  ATTR_OPENCODE_RETRY_ATTEMPT,
  EVENT_OPENCODE_COMPACTION,
  EVENT_OPENCODE_RETRY,
} from '../semconv.ts';
import type { TraceRow } from '../source.ts';
import { str } from './rules.ts';
import type { SpanEventData } from './types.ts';

/** Kinds that become span events on their parent instead of spans. */
export const EVENT_KINDS: ReadonlySet<string> = new Set(['retry', 'compaction']);

export function eventFor(r: TraceRow, fallbackUs: number): SpanEventData {
  const attributes: SpanEventData['attributes'] = {};
  if (str(r.partId)) attributes[ATTR_OPENCODE_PART_ID] = r.partId;
  if (r.kind === 'retry') {
    if (r.retryAttempt != null) attributes[ATTR_OPENCODE_RETRY_ATTEMPT] = r.retryAttempt;
    if (str(r.retryErrorName) || str(r.retryErrorMessage) || r.retryErrorStatus != null) {
      attributes[ATTR_ERROR_TYPE] =
        r.retryErrorCategory ??
        classifyError({
          source: 'retry',
          name: r.retryErrorName,
          statusCode: r.retryErrorStatus,
          message: r.retryErrorMessage,
        });
      if (str(r.retryErrorName)) attributes[ATTR_OPENCODE_ERROR_NAME] = r.retryErrorName;
    }
    return { name: EVENT_OPENCODE_RETRY, timeUs: r.startUs ?? fallbackUs, attributes };
  }
  if (r.compactionAuto != null) attributes[ATTR_OPENCODE_COMPACTION_AUTO] = r.compactionAuto;
  if (r.compactionOverflow != null) attributes[ATTR_OPENCODE_COMPACTION_OVERFLOW] = r.compactionOverflow;
  return { name: EVENT_OPENCODE_COMPACTION, timeUs: r.startUs ?? fallbackUs, attributes };
}
