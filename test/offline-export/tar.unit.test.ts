import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TAR_END, tarHeader, tarPadding } from '../../activities/offline-export/archive/tar';

// The tar encoder against GNU tar (Debian's tar): what it writes, tar lists and extracts byte for byte, short and
// long names alike (a long name goes into a PAX header, as GNU tar writes it).

const archive = (entries: { name: string; body: Buffer }[]) =>
  Buffer.concat([
    ...entries.flatMap((e) => [tarHeader({ name: e.name, size: e.body.length }), e.body, tarPadding(e.body.length)]),
    TAR_END,
  ]);

describe('tar encoding', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tar-unit-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes entries GNU tar lists and extracts exactly', () => {
    const longName = `./${'s'.repeat(32)}/${'a-very-long-file-name-'.repeat(10)}.txt`;
    const entries = [
      { name: './repository.bundle', body: Buffer.from('# v2 git bundle\n') },
      { name: './0123456789abcdef0123456789abcdef/notes.txt', body: Buffer.alloc(513, 7) },
      { name: './empty', body: Buffer.alloc(0) },
      { name: longName, body: Buffer.from('long') },
    ];
    const file = join(dir, 'a.tar');
    writeFileSync(file, archive(entries));
    const listed = execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual(entries.map((e) => e.name));
    const out = mkdtempSync(join(dir, 'out-'));
    execFileSync('tar', ['-xf', file, '-C', out]);
    for (const e of entries) expect(readFileSync(join(out, e.name)).equals(e.body)).toBe(true);
  });

  it('pads every entry to 512-byte blocks and ends with two zero blocks', () => {
    expect(tarHeader({ name: './x', size: 1 })).toHaveLength(512);
    expect(tarPadding(1)).toHaveLength(511);
    expect(tarPadding(512)).toHaveLength(0);
    expect(TAR_END.equals(Buffer.alloc(1024))).toBe(true);
  });
});
