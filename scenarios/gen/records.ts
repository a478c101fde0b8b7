/** Builders of one generated enterprise, its facts and its loans. */
import { addMonths, type CityId, composeUscc, currentDistricts, USCC_ALPHABET } from '../../model/index.ts';
import {
  AUTHORITIES,
  BRANDS,
  CITY_NAMES,
  COMMITMENT_TYPES,
  COURTS,
  FORMS,
  GIVEN,
  HONOURS,
  INDUSTRIES,
  PENALTY_CATEGORIES,
  SURNAMES,
} from './names.ts';
import type { Rng } from './rng.ts';

/** Reference "today" of generated data: fixed, so output never depends on the clock. */
export const GEN_TODAY = '2026-11-01';

/** A generated enterprise with the city that holds its data. */
export interface GenEnterprise {
  row: Record<string, unknown>;
  uscc: string;
  city: CityId;
}

const CITY_WEIGHTS: Record<CityId, number> = { XM: 50, QZ: 30, ZZ: 20 };

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
export const date = (rng: Rng, fromYear: number, toYear: number) =>
  `${rng.int(fromYear, toYear)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`;
export const time2026 = (rng: Rng) =>
  `2026-${pad(rng.int(1, 10))}-${pad(rng.int(1, 28))}T${pad(rng.int(0, 23))}:${pad(rng.int(0, 59))}:${pad(rng.int(0, 59))}Z`;
const person = (rng: Rng) => rng.pick(SURNAMES) + rng.pick(GIVEN);

/** A synthetic but well-formed 18-digit resident ID number (GB 11643), for tokenisation at ingest. */
export function idNumber(rng: Rng, region: string): string {
  const body = `${region}${rng.int(1960, 1999)}${pad(rng.int(1, 12))}${pad(rng.int(1, 28))}${pad(rng.int(0, 999), 3)}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let s = 0;
  for (let i = 0; i < 17; i++) s += Number(body[i]) * w[i];
  return body + '10X98765432'[s % 11];
}

/** Makes a unique valid USCC for a region. */
export function makeUscc(rng: Rng, region: string, taken: Set<string>): string {
  for (;;) {
    const category = rng.weighted({ '1': 90, '2': 5, '3': 5 });
    const modern = rng.chance(0.8);
    let body = modern ? 'MA' : '';
    while (body.length < 8) body += modern ? rng.pick(USCC_ALPHABET.split('')) : String(rng.int(0, 9));
    const code = composeUscc('9', category, region, body);
    if (!taken.has(code)) {
      taken.add(code);
      return code;
    }
  }
}

/** Builds one enterprise with a unique name and code. */
export function makeEnterprise(rng: Rng, usccs: Set<string>, names: Set<string>): GenEnterprise {
  const city = rng.weighted(CITY_WEIGHTS);
  const districts = currentDistricts(city);
  const regCity = { XM: '350200', ZZ: '350600', QZ: '350500' }[city];
  const region = rng.chance(0.15) ? regCity : rng.pick(districts).code;
  const uscc = makeUscc(rng, region, usccs);
  const industry = rng.pick(INDUSTRIES);
  let name = '';
  for (let attempt = 0; !name || names.has(name); attempt++) {
    const brand = rng.pick(BRANDS) + (rng.chance(0.7) ? rng.pick(BRANDS) : '');
    name = `${CITY_NAMES[city]}${brand}${industry.word}${rng.pick(FORMS)}${attempt > 4 ? `第${attempt}` : ''}`;
  }
  names.add(name);
  const domicile = region === regCity ? rng.pick(districts).code : region;
  const row: Record<string, unknown> = {
    uscc,
    name,
    formerNames: rng.chance(0.1) ? [`${CITY_NAMES[city]}${rng.pick(BRANDS)}${industry.word}${rng.pick(FORMS)}`] : [],
    status: rng.weighted({ EXISTING: 95, REVOKED: 2, CANCELLED: 2, MOVED_OUT: 1 }),
    establishedOn: date(rng, 1995, 2025),
    registeredCapitalWan: rng.int(10, 50_000),
    industryCode: industry.code,
    legalRepresentative: person(rng),
    domicileRegion: domicile,
    updatedAt: time2026(rng),
  };
  if (rng.chance(0.5)) row.legalRepIdNumber = idNumber(rng, domicile);
  return { row, uscc, city };
}

/** Base fields of a fact. */
function fact(
  id: string,
  uscc: string,
  subtype: string,
  category: string,
  polarity: string,
  sourceUnit: string,
  rng: Rng,
) {
  return {
    id,
    uscc,
    subtype,
    category,
    polarity,
    sourceUnit,
    decisionDate: date(rng, 2023, 2026),
    usageRange: 'AUTHORIZED_ONLY',
    updatedAt: time2026(rng),
  } as Record<string, unknown>;
}

/** Facts held by the city's credit centre ("results"): lists, penalties, licences, honours, evaluations. */
export function resultFacts(rng: Rng, e: GenEnterprise, nextId: () => string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const auth = AUTHORITIES[e.city];
  let serious = false;
  const penalties = rng.chance(0.15) ? rng.int(1, 2) : 0;
  for (let i = 0; i < penalties; i++) {
    const severity = rng.weighted({ MINOR: 40, GENERAL: 45, SERIOUS: 15 });
    const f = fact(nextId(), e.uscc, 'ADMIN_PENALTY', 'ADMINISTRATIVE', 'NEGATIVE', rng.pick(auth), rng);
    const [min, max] = severity === 'MINOR' ? [1, 3] : severity === 'GENERAL' ? [3, 12] : [12, 36];
    Object.assign(f, {
      severity,
      legalDocumentRef: `${CITY_NAMES[e.city]}市监罚〔${String(f.decisionDate).slice(0, 4)}〕${rng.int(1, 999)}号`,
      publicUntil: addMonths(String(f.decisionDate), rng.int(min, max)),
      usageRange: 'PUBLIC',
      payload: {
        decisionNo: `罚字〔${String(f.decisionDate).slice(0, 4)}〕${rng.int(1000, 9999)}号`,
        penaltyCategory: rng.pick(PENALTY_CATEGORIES),
        content: '未按规定履行相关义务，依法予以处罚',
        authority: f.sourceUnit,
        fineWan: rng.int(1, 50),
      },
    });
    out.push(f);
  }
  if (rng.chance(0.4))
    out.push({
      ...fact(nextId(), e.uscc, 'ADMIN_LICENCE', 'ADMINISTRATIVE', 'NEUTRAL', rng.pick(auth), rng),
      usageRange: 'PUBLIC',
      payload: {
        licenceNo: `XK${rng.int(100000, 999999)}`,
        licenceName: '食品经营许可证',
        validFrom: date(rng, 2020, 2025),
        authority: rng.pick(auth),
      },
    });
  if (rng.chance(0.03)) {
    const f = fact(nextId(), e.uscc, 'ABNORMAL_LIST', 'ABNORMAL_OPERATION', 'NEGATIVE', auth[0], rng);
    out.push({
      ...f,
      legalDocumentRef: `异常〔${rng.int(2023, 2026)}〕${rng.int(1, 999)}号`,
      usageRange: 'PUBLIC',
      payload: { reason: '未按规定公示年度报告', listedOn: f.decisionDate, authority: auth[0] },
    });
  }
  if (rng.chance(0.01)) {
    serious = true;
    const f = fact(nextId(), e.uscc, 'SERIOUS_DISHONESTY', 'SERIOUS_DISHONESTY', 'NEGATIVE', auth[0], rng);
    out.push({
      ...f,
      severity: 'SERIOUS',
      legalDocumentRef: `严违〔${rng.int(2023, 2026)}〕${rng.int(1, 99)}号`,
      usageRange: 'PUBLIC',
      payload: {
        listName: '严重违法失信名单',
        authority: auth[0],
        basis: '《严重违法失信名单管理办法》第二条',
        listedOn: f.decisionDate,
      },
    });
  }
  if (rng.chance(0.02)) {
    const f = fact(nextId(), e.uscc, 'DISHONEST_DEBTOR', 'JUDICIAL', 'NEGATIVE', COURTS[e.city], rng);
    out.push({
      ...f,
      legalDocumentRef: `(${rng.int(2023, 2026)})闽0203执${rng.int(100, 9999)}号`,
      usageRange: 'PUBLIC',
      payload: {
        caseNo: `(${rng.int(2023, 2026)})闽0203执${rng.int(100, 9999)}号`,
        court: COURTS[e.city],
        obligation: '支付货款及利息',
        performance: '全部未履行',
      },
    });
  }
  if (rng.chance(0.1))
    out.push({
      ...fact(nextId(), e.uscc, 'HONOUR', 'HONOUR', 'POSITIVE', auth[0], rng),
      usageRange: 'PUBLIC',
      payload: { title: rng.pick(HONOURS), grantor: auth[0], year: rng.int(2022, 2025) },
    });
  if (rng.chance(0.2))
    out.push({
      ...fact(nextId(), e.uscc, 'COMMITMENT', 'COMMITMENT', 'NEUTRAL', auth[0], rng),
      usageRange: 'PUBLIC',
      payload: {
        commitmentType: rng.pick(COMMITMENT_TYPES),
        acceptor: auth[0],
        content: '依法诚信经营，按时履行各项义务',
        fulfilment: rng.weighted({ PENDING: 30, FULFILLED: 65, BROKEN: 5 }),
      },
    });
  const grade = serious ? 'D' : rng.weighted({ A: 25, B: 50, C: 20, D: 5 });
  out.push({
    ...fact(
      nextId(),
      e.uscc,
      'EVALUATION',
      'EVALUATION',
      grade === 'A' ? 'POSITIVE' : grade === 'D' ? 'NEGATIVE' : 'NEUTRAL',
      `${CITY_NAMES[e.city]}市公共信用信息中心`,
      rng,
    ),
    ...(grade === 'D' ? { legalDocumentRef: `评价〔2026〕${rng.int(1, 999)}号` } : {}),
    payload: { grade, scheme: 'GBT45255-2025', evaluatedAt: '2026-04-30' },
  });
  return out;
}

/** Process data held by the source holder: tax, social insurance, housing fund, utilities, real estate. */
export function processFacts(rng: Rng, e: GenEnterprise, nextId: () => string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const tax = `国家税务总局${CITY_NAMES[e.city]}市税务局`;
  for (const year of [2024, 2025]) {
    const grade = rng.weighted({ A: 20, B: 50, M: 10, C: 15, D: 5 });
    const polarity = grade === 'A' ? 'POSITIVE' : grade === 'C' || grade === 'D' ? 'NEGATIVE' : 'NEUTRAL';
    out.push({
      ...fact(nextId(), e.uscc, 'TAX_GRADE', 'COMPLIANCE', polarity, tax, rng),
      decisionDate: `${year + 1}-04-15`,
      ...(polarity === 'NEGATIVE' ? { legalDocumentRef: `税信〔${year + 1}〕${rng.int(1, 999)}号` } : {}),
      payload: { year, grade },
    });
  }
  const staff = rng.int(3, 800);
  for (const m of ['2026-08', '2026-09', '2026-10']) {
    out.push({
      ...fact(
        nextId(),
        e.uscc,
        'SOCIAL_INSURANCE',
        'COMPLIANCE',
        'NEUTRAL',
        `${CITY_NAMES[e.city]}市人力资源和社会保障局`,
        rng,
      ),
      decisionDate: `${m}-28`,
      payload: {
        period: m,
        insuredEmployees: Math.max(0, staff + rng.int(-5, 5)),
        arrearsYuan: rng.chance(0.05) ? rng.int(1000, 200000) : 0,
      },
    });
    out.push({
      ...fact(nextId(), e.uscc, 'UTILITY', 'CONTRACT_PERFORMANCE', 'NEUTRAL', '国网厦门供电公司', rng),
      decisionDate: `${m}-28`,
      payload: {
        period: m,
        utility: 'electricity',
        volume: rng.int(1000, 900000),
        arrearsMonths: rng.chance(0.03) ? rng.int(1, 3) : 0,
      },
    });
  }
  if (rng.chance(0.6))
    out.push({
      ...fact(nextId(), e.uscc, 'HOUSING_FUND', 'COMPLIANCE', 'NEUTRAL', `${CITY_NAMES[e.city]}市住房公积金中心`, rng),
      decisionDate: '2026-10-28',
      payload: { period: '2026-10', depositors: Math.max(1, Math.round(staff * 0.7)), arrears: rng.chance(0.04) },
    });
  if (rng.chance(0.5))
    out.push({
      ...fact(
        nextId(),
        e.uscc,
        'REAL_ESTATE',
        'REGISTRATION',
        'NEUTRAL',
        `${CITY_NAMES[e.city]}市自然资源和规划局`,
        rng,
      ),
      payload: { properties: rng.int(1, 12), mortgages: rng.int(0, 3), seized: rng.chance(0.02) },
    });
  return out;
}

/** Loans of one enterprise at one bank. */
export function loan(rng: Rng, bank: string, uscc: string, seq: number): Record<string, unknown> {
  const start = date(rng, 2023, 2026);
  return {
    bank,
    loanId: `${bank}-L${String(seq).padStart(7, '0')}`,
    uscc,
    outstandingYuan: rng.int(100, 50_000) * 1000,
    startDate: start,
    maturityDate: addMonths(start, 12 * rng.int(1, 5)),
    status: rng.weighted({ CURRENT: 90, OVERDUE: 7, SETTLED: 3 }),
    updatedAt: time2026(rng),
  };
}
