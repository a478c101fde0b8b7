import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../model/errors.ts';
import { loadConfig, parseConfig } from './config.ts';

const good = { nodeId: 'xm-centre', name: 'Xiamen', role: 'credit-centre', dataDir: 'data' };

describe('config', () => {
  it('fills defaults and resolves paths against the config file', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cfg-'));
    await writeFile(join(d, 'config.json'), JSON.stringify(good));
    const cfg = await loadConfig(join(d, 'config.json'), { port: 0 });
    expect(cfg.dataDir).toBe(join(d, 'data'));
    expect(cfg.api).toMatchObject({ host: '127.0.0.1', port: 0, graphiql: false });
    expect(Object.isFrozen(cfg.api)).toBe(true);
  });

  it.each([
    [{ ...good, nodeId: 'Bad Id' }, /nodeId/],
    [{ ...good, role: 'oracle' }, /role/],
    [{ ...good, api: { port: 70000 } }, /api\.port/],
    [{ ...good, api: { prot: 1 } }, /api.*prot/],
    [{ ...good, extra: true }, /extra/],
    [{ ...good, federation: { roster: 'r.json', authorityKeys: ['nope'] } }, /federation\.authorityKeys\.0/],
    [{ ...good, federation: { roster: 'r.json', authorityKeys: [`${'A'.repeat(43)}=`], threshold: 2 } }, /threshold/],
    [{ ...good, log: { level: 'loud' } }, /log\.level/],
  ])('names the bad field (%#)', (input, pattern) => {
    expect(() => parseConfig(input)).toThrow(ConfigError);
    expect(() => parseConfig(input)).toThrow(pattern);
  });

  it('reports a missing or non-JSON file clearly', async () => {
    const d = await mkdtemp(join(tmpdir(), 'cfg-'));
    await expect(loadConfig(join(d, 'none.json'))).rejects.toThrow(/not found/);
    await writeFile(join(d, 'bad.json'), '{');
    await expect(loadConfig(join(d, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    await writeFile(join(d, 'arr.json'), '[]');
    await expect(loadConfig(join(d, 'arr.json'))).rejects.toThrow(/JSON object/);
  });
});
