/**
 * Administrative divisions (GB/T 2260) of Xiamen, Zhangzhou and Quanzhou (厦漳泉),
 * from shared/reference/credit.md §1.9 (National Bureau of Statistics codes, 2023).
 */

/** A city of the federation. */
export type CityId = 'XM' | 'ZZ' | 'QZ';

/** One division: a city-level code (`xx00`), district, county or county-level city. */
export interface Region {
  code: string;
  name: string;
  city: CityId;
  type: 'city' | 'district' | 'county' | 'county-city';
  /** Set on codes that no longer exist but may appear in old USCCs; the successor code. */
  successor?: string;
}

/** The three cities with their GB/T 2260 prefix. */
export const CITIES: Readonly<Record<CityId, { code: string; name: string; nameEn: string }>> = {
  XM: { code: '350200', name: '厦门市', nameEn: 'Xiamen' },
  ZZ: { code: '350600', name: '漳州市', nameEn: 'Zhangzhou' },
  QZ: { code: '350500', name: '泉州市', nameEn: 'Quanzhou' },
};

const R = (code: string, name: string, city: CityId, type: Region['type'], successor?: string): Region =>
  successor ? { code, name, city, type, successor } : { code, name, city, type };

/** Every known division, current and historical. */
export const REGIONS: readonly Region[] = [
  R('350200', '厦门市', 'XM', 'city'),
  R('350203', '思明区', 'XM', 'district'),
  R('350205', '海沧区', 'XM', 'district'),
  R('350206', '湖里区', 'XM', 'district'),
  R('350211', '集美区', 'XM', 'district'),
  R('350212', '同安区', 'XM', 'district'),
  R('350213', '翔安区', 'XM', 'district'),
  R('350202', '鼓浪屿区', 'XM', 'district', '350203'),
  R('350204', '开元区', 'XM', 'district', '350203'),
  R('350500', '泉州市', 'QZ', 'city'),
  R('350502', '鲤城区', 'QZ', 'district'),
  R('350503', '丰泽区', 'QZ', 'district'),
  R('350504', '洛江区', 'QZ', 'district'),
  R('350505', '泉港区', 'QZ', 'district'),
  R('350521', '惠安县', 'QZ', 'county'),
  R('350524', '安溪县', 'QZ', 'county'),
  R('350525', '永春县', 'QZ', 'county'),
  R('350526', '德化县', 'QZ', 'county'),
  R('350527', '金门县', 'QZ', 'county'),
  R('350581', '石狮市', 'QZ', 'county-city'),
  R('350582', '晋江市', 'QZ', 'county-city'),
  R('350583', '南安市', 'QZ', 'county-city'),
  R('350600', '漳州市', 'ZZ', 'city'),
  R('350602', '芗城区', 'ZZ', 'district'),
  R('350603', '龙文区', 'ZZ', 'district'),
  R('350604', '龙海区', 'ZZ', 'district'),
  R('350605', '长泰区', 'ZZ', 'district'),
  R('350622', '云霄县', 'ZZ', 'county'),
  R('350623', '漳浦县', 'ZZ', 'county'),
  R('350624', '诏安县', 'ZZ', 'county'),
  R('350626', '东山县', 'ZZ', 'county'),
  R('350627', '南靖县', 'ZZ', 'county'),
  R('350628', '平和县', 'ZZ', 'county'),
  R('350629', '华安县', 'ZZ', 'county'),
  R('350681', '龙海市', 'ZZ', 'county-city', '350604'),
  R('350625', '长泰县', 'ZZ', 'county', '350605'),
];

const BY_CODE: ReadonlyMap<string, Region> = new Map(REGIONS.map((r) => [r.code, r]));

/** Looks up a division by its 6-digit code. */
export function regionByCode(code: string): Region | undefined {
  return BY_CODE.get(code);
}

/** The city a 6-digit division code belongs to, by prefix (3502 / 3506 / 3505). */
export function cityOfRegion(code: string): CityId | undefined {
  switch (code.slice(0, 4)) {
    case '3502':
      return 'XM';
    case '3506':
      return 'ZZ';
    case '3505':
      return 'QZ';
    default:
      return undefined;
  }
}

/** Current (non-historical) divisions of one city, city-level code excluded. */
export function currentDistricts(city: CityId): Region[] {
  return REGIONS.filter((r) => r.city === city && r.type !== 'city' && !r.successor);
}
