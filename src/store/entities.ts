/** The stored entities: their table, key column, column specs and how a record names its ID. */
import type {
  IngestRecord,
  MessageRecord,
  PartRecord,
  ProjectRecord,
  SessionDiffRecord,
  SessionRecord,
  TodoRecord,
} from '../ingest/records.ts';
import {
  type Col,
  messageCols,
  partCols,
  projectCols,
  sessionCols,
  sessionDiffCols,
  todoCols,
} from './columns.ts';

export type Entity = 'project' | 'session' | 'message' | 'part' | 'todo' | 'session_diff';

export interface EntitySpec {
  table: string;
  key: string;
  cols: readonly Col<never>[];
  idOf: (r: IngestRecord) => string;
}

export const SPECS: Record<Entity, EntitySpec> = {
  project: {
    table: 'projects',
    key: 'project_id',
    cols: projectCols as never,
    idOf: (r) => (r as ProjectRecord).projectId,
  },
  session: {
    table: 'sessions',
    key: 'session_id',
    cols: sessionCols as never,
    idOf: (r) => (r as SessionRecord).sessionId,
  },
  message: {
    table: 'messages',
    key: 'message_id',
    cols: messageCols as never,
    idOf: (r) => (r as MessageRecord).messageId,
  },
  part: { table: 'parts', key: 'part_id', cols: partCols as never, idOf: (r) => (r as PartRecord).partId },
  todo: {
    table: 'todos',
    key: 'session_id',
    cols: todoCols as never,
    idOf: (r) => (r as TodoRecord).sessionId,
  },
  session_diff: {
    table: 'session_diffs',
    key: 'session_id',
    cols: sessionDiffCols as never,
    idOf: (r) => (r as SessionDiffRecord).sessionId,
  },
};
export const ENTITY_ORDER: readonly Entity[] = [
  'project',
  'session',
  'message',
  'part',
  'todo',
  'session_diff',
];

/** A count per entity, all 0. */
export const zeroPerEntity = (): Record<Entity, number> => ({
  project: 0,
  session: 0,
  message: 0,
  part: 0,
  todo: 0,
  session_diff: 0,
});
