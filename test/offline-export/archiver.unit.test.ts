import { insideStorage } from '../../activities/offline-export/archive/archiver';

// The path guard every file relation reads its source through: a path from the database is refused when it is
// absolute, climbs with "..", or resolves outside its storage root, whatever it would cancel out against.

describe('insideStorage', () => {
  const root = '/srv/storage/uploads';

  it('resolves plain relative paths under the root', () => {
    expect(insideStorage(root, 'ab/cd/file.txt', 'upload 1')).toBe('/srv/storage/uploads/ab/cd/file.txt');
    expect(insideStorage(root, '@hashed/6b/86/6b86.git', 'repo')).toBe('/srv/storage/uploads/@hashed/6b/86/6b86.git');
  });

  it.each([
    ['../outside.git'],
    ['a/../../etc/passwd'],
    ['secret/../notes.txt'], // would stay inside, but a stored path with ".." is not one GitLab writes
    ['/etc/passwd'],
    ['..'],
    ['.'],
    [''],
    ['a\0b'],
    ['a\\..\\..\\b'],
  ])('refuses %j', (path) => {
    expect(() => insideStorage(root, path, 'upload 7')).toThrow(/^upload 7 has a path that leaves its storage/);
  });

  it('says which record and which path, as a non-retryable failure', () => {
    try {
      insideStorage(root, '../x', 'the wiki repository');
      throw new Error('not refused');
    } catch (err) {
      expect(err).toMatchObject({
        message: 'the wiki repository has a path that leaves its storage: "../x"',
        type: 'UnsafeSourceData',
        nonRetryable: true,
      });
    }
  });
});
