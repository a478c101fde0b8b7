/**
 * The demo federation (DESIGN §1): the Xiamen credit centre (federation authority), the
 * Zhangzhou and Quanzhou city peers, the Credit Easy-Loan platform and three banks.
 */
import type { Section } from '../../model/index.ts';
import type { Role } from '../../node/config.ts';

/** One node of the demo federation. */
export interface DemoNode {
  nodeId: string;
  name: string;
  role: Role;
  city?: 'XM' | 'ZZ' | 'QZ';
  /** Sections a data holder serves (default: all). */
  serves?: Section[];
}

/** Node id of the federation authority, which signs the roster. */
export const AUTHORITY_NODE = 'xm-centre';

/** Every node of the demo federation, in start order. */
export const DEMO_NODES: readonly DemoNode[] = [
  {
    nodeId: 'xm-centre',
    name: 'Xiamen Public Credit Information Centre (厦门市公共信用信息中心)',
    role: 'credit-centre',
    city: 'XM',
    // Results are centralised here; Xiamen's process data stays with its source (xm-data).
    serves: [
      'registration',
      'judicial',
      'penalties',
      'licences',
      'abnormalList',
      'seriousDishonesty',
      'honours',
      'commitments',
      'evaluation',
    ],
  },
  {
    nodeId: 'zz-centre',
    name: 'Zhangzhou Public Credit Information Centre (漳州市公共信用信息中心)',
    role: 'city-peer',
    city: 'ZZ',
  },
  {
    nodeId: 'qz-centre',
    name: 'Quanzhou Public Credit Information Centre (泉州市公共信用信息中心)',
    role: 'city-peer',
    city: 'QZ',
  },
  {
    nodeId: 'xm-data',
    name: 'Xiamen process-data source: tax, social insurance, housing fund, utilities (过程数据源)',
    role: 'source',
    city: 'XM',
    serves: ['tax', 'socialInsurance', 'housingFund', 'utilities', 'realEstate'],
  },
  { nodeId: 'easy-loan', name: 'Xiamen Credit Easy-Loan Platform (信易贷平台)', role: 'easy-loan', city: 'XM' },
  { nodeId: 'bank-a', name: 'Bank A (Xiamen branch)', role: 'bank', city: 'XM' },
  { nodeId: 'bank-b', name: 'Bank B (Xiamen branch)', role: 'bank', city: 'XM' },
  { nodeId: 'bank-c', name: 'Bank C (Xiamen branch)', role: 'bank', city: 'XM' },
];

/** Default first port: node i uses API port `base + 2i` and libp2p port `base + 2i + 1`. */
export const DEFAULT_BASE_PORT = 7100;
