/**
 * The datasources every dashboard uses, by fixed UID. grafana/provisioning/datasources/datasources.yml
 * provisions exactly these UIDs (checked by test/deploy-config.test.ts).
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export const PROMETHEUS: DataSourceRef = { type: 'prometheus', uid: 'ocbridge-prometheus' };
export const TEMPO: DataSourceRef = { type: 'tempo', uid: 'ocbridge-tempo' };
export const JAEGER: DataSourceRef = { type: 'jaeger', uid: 'ocbridge-jaeger' };
/** the bridge's HTTP API, through the Infinity plugin; its base URL is set in provisioning */
export const BRIDGE_API: DataSourceRef = { type: 'yesoreyeram-infinity-datasource', uid: 'ocbridge-api' };
