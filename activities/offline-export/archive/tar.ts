// The tar format GitLab's file relations use (POSIX ustar, as `tar -cf archive -C dir .` writes it), encoded here
// rather than with a streaming tar library because a repository bundle's size is known only after git has written
// it: its header is encoded last and put in front of the content (see object-writer.ts `deferHead`), which no such
// library supports. Names longer than ustar allows get a PAX extended header, as GNU tar does.

const BLOCK = 512;
/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(2 * BLOCK);

export interface TarEntry {
  /** Path inside the archive, "./" prefixed like `tar -C dir .` writes it. */
  name: string;
  size: number;
  /** Seconds since the epoch. */
  mtime?: number;
  mode?: number;
}

/** Zero bytes that fill an entry of `size` bytes up to the next block. */
export const tarPadding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

function writeField(block: Buffer, offset: number, width: number, value: string | Buffer): void {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  bytes.copy(block, offset, 0, Math.min(bytes.length, width));
}

/** One 512-byte header block (type '0' file, 'x' PAX extended header). */
function headerBlock(name: string, size: number, type: '0' | 'x', mtime: number, mode: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long path at a '/' into prefix (155) and name (100); the PAX record carries the whole one.
    const cut = name.lastIndexOf('/', name.length - 1);
    prefix = cut > 0 ? name.slice(0, cut).slice(0, 155) : '';
    base = cut > 0 ? name.slice(cut + 1) : name;
  }
  writeField(block, 0, 100, base);
  writeField(block, 100, 8, octal(mode, 8));
  writeField(block, 108, 8, octal(0, 8));
  writeField(block, 116, 8, octal(0, 8));
  if (size < 8 ** 11) {
    writeField(block, 124, 12, octal(size, 12));
  } else {
    // GNU base-256: the high bit of the first byte set, the size big-endian in the rest.
    block[124] = 0x80;
    block.writeBigUInt64BE(BigInt(size), 124 + 4);
  }
  writeField(block, 136, 12, octal(mtime, 12));
  writeField(block, 148, 8, '        ');
  writeField(block, 156, 1, type);
  writeField(block, 257, 6, 'ustar\0');
  writeField(block, 263, 2, '00');
  writeField(block, 265, 32, 'root');
  writeField(block, 297, 32, 'root');
  writeField(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  writeField(block, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return block;
}

/** A PAX record "<length> path=<value>\n", whose length counts itself. */
function paxRecord(key: string, value: string): Buffer {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body);
  for (;;) {
    const total = String(length).length + Buffer.byteLength(body);
    if (total === length) break;
    length = total;
  }
  return Buffer.from(`${length}${body}`, 'utf8');
}

/** The header of one file entry: its header block, preceded by a PAX header when the name does not fit ustar. */
export function tarHeader(entry: TarEntry): Buffer {
  const mtime = entry.mtime ?? 0;
  const mode = entry.mode ?? 0o644;
  const fits = Buffer.byteLength(entry.name) <= 100 || fitsUstarPrefix(entry.name);
  if (fits) return headerBlock(entry.name, entry.size, '0', mtime, mode);
  const pax = paxRecord('path', entry.name);
  const paxName = `./PaxHeaders/${entry.name.slice(-90).replace(/^.*?\//, '')}`;
  return Buffer.concat([
    headerBlock(paxName, pax.length, 'x', mtime, 0o644),
    pax,
    tarPadding(pax.length),
    headerBlock(entry.name, entry.size, '0', mtime, mode),
  ]);
}

function fitsUstarPrefix(name: string): boolean {
  const cut = name.lastIndexOf('/');
  return cut > 0 && Buffer.byteLength(name.slice(0, cut)) <= 155 && Buffer.byteLength(name.slice(cut + 1)) <= 100;
}
