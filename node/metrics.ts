/** `/metrics`: the node's state in the Prometheus text format (alarms are a metric, not only a log line). */
import type { AccessLog } from '../accesslog/log.ts';
import type { StorageGuard } from '../storage/index.ts';
import type { NodeConfig } from './config.ts';
import type { NodeFederation } from './federation-wiring.ts';

const label = (v: string) => v.replace(/["\\\n]/g, '_');

/** Renders the node's metrics. */
export function renderMetrics(
  config: NodeConfig,
  log: AccessLog,
  federation: NodeFederation | undefined,
  storage?: StorageGuard,
  /** Metrics of other subsystems, already in the text format (e.g. check-and-intercept counters). */
  more?: () => string,
): string {
  const lines: string[] = [];
  const gauge = (name: string, help: string, samples: Array<[string, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  gauge('credit_node_info', 'Node identity.', [[`{node="${label(config.nodeId)}",role="${config.role}"}`, 1]]);
  gauge('credit_access_log_entries', 'Entries in the signed access log.', [['', log.size()]]);
  gauge('credit_access_log_checkpoint_size', 'Tree size of the latest signed checkpoint.', [
    ['', log.latestCheckpoint()?.size ?? 0],
  ]);
  if (storage) {
    const health = storage.health();
    gauge(
      'credit_storage_ok',
      'Whether the database accepts writes (0 after a failed write, until reopened and checked).',
      [['', health.status === 'ok' ? 1 : 0]],
    );
    gauge('credit_storage_write_failures', 'Database writes that failed since the node started.', [
      ['', health.failures],
    ]);
    gauge('credit_storage_recoveries', 'Times the database was reopened and checked after a failure.', [
      ['', health.recoveries],
    ]);
  }
  const state = log.state();
  gauge('credit_access_log_ok', 'Whether the access log accepts entries (no data is served while it does not).', [
    ['', state.status === 'ok' ? 1 : 0],
  ]);
  const logAlarms = log.alarms();
  gauge(
    'credit_access_log_alarms',
    'Problems found in the stored access log (edited entries or nodes, missing entries, entries lost after a storage failure).',
    (['LOG_TAMPERED', 'LOG_CORRUPT', 'LOG_LOST'] as const).map((k) => [
      `{kind="${k}"}`,
      logAlarms.filter((a) => a.kind === k).length,
    ]),
  );
  const scrub = log.scrubStatus();
  gauge('credit_access_log_scrub_passes', 'Full scrub passes of the stored access log since start.', [
    ['', scrub.passes],
  ]);
  if (federation) {
    const peers = federation.health.peers();
    gauge('credit_federation_roster_version', 'Version of the roster in force.', [
      ['', federation.roster.current()?.roster.version ?? 0],
    ]);
    gauge('credit_federation_peers', 'Roster members by reachability.', [
      ['{state="up"}', peers.filter((p) => p.up).length],
      ['{state="down"}', peers.filter((p) => !p.up).length],
    ]);
    const alarms = federation.alarms() as Array<{ kind: string }>;
    const kinds = ['SPLIT_VIEW', 'INCONSISTENT', 'BAD_SIGNATURE', 'ROLLBACK', 'UNRESPONSIVE_LOG', 'ROSTER_CONFLICT'];
    gauge(
      'credit_federation_alarms',
      'Uncleared witness and roster alarms (split views, inconsistent, rolled-back or unresponsive logs, bad signatures, conflicting rosters).',
      kinds.map((k) => [`{kind="${k}"}`, alarms.filter((a) => a.kind === k).length]),
    );
    const quarantined = federation.quarantined();
    gauge(
      'credit_federation_quarantined',
      'Members whose data this node does not trust until an operator clears their alarms.',
      [['', quarantined.length], ...quarantined.map((id): [string, number] => [`{node="${label(id)}"}`, 1])],
    );
  }
  return `${lines.join('\n')}\n${more?.() ?? ''}`;
}
