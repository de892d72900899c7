import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dockerfileImages,
  firstProgram,
  isLocalImage,
  reviewedImages,
  ROOT,
  unreviewedImages,
} from '../helpers/compose';

/** The pieces of the Compose image check that need no compose loader (test/stack/compose.test.ts runs the whole). */
describe('reviewed images', () => {
  it('reads the images a Dockerfile pulls, leaving out its own stages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockerfile-'));
    try {
      const file = join(dir, 'Dockerfile');
      writeFileSync(
        file,
        [
          '# FROM ignored:comment',
          'FROM --platform=$BUILDPLATFORM golang:1.25-alpine3.22 AS build',
          'RUN echo FROM not-an-image',
          'from build as test',
          'FROM alpine:3.23.3',
          'COPY --from=build /out /out',
        ].join('\n'),
      );
      expect(dockerfileImages(file)).toEqual(['golang:1.25-alpine3.22', 'alpine:3.23.3']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('lists every image of the Dockerfiles', () => {
    const known = new Set(reviewedImages().map((entry) => entry.image));
    for (const file of ['Dockerfile', 'docker/minio/Dockerfile']) {
      for (const image of dockerfileImages(join(ROOT, file)))
        expect({ file, image, known: known.has(image) }).toEqual({ file, image, known: true });
    }
  });

  it('reports an unlisted image with where it was found, and only that one', () => {
    const refs = [
      { image: 'postgres:16', where: 'docker-compose.yml service postgresql' },
      { image: 'minio/minio:RELEASE.2025-09-07T16-13-09Z', where: 'docker-compose.yml service minio' },
      { image: 'postgres:15', where: 'Dockerfile' },
    ];
    expect(unreviewedImages(refs, reviewedImages())).toEqual([refs[1], refs[2]]);
  });

  it('records for each image where it was confirmed and when', () => {
    for (const entry of reviewedImages()) {
      expect(entry.confirmed).toMatch(/^https:\/\//);
      expect(entry.reviewed).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(Array.isArray(entry.binaries)).toBe(true);
      expect(isLocalImage(entry.image)).toBe(false);
    }
  });

  it("names a health check's or entrypoint's program the way the image runs it", () => {
    expect(firstProgram(['CMD', 'pg_isready', '-U', 'gitlab'])).toBe('pg_isready');
    expect(firstProgram(['CMD-SHELL', 'redis-cli ping | grep PONG'])).toBe('redis-cli');
    expect(firstProgram(['/bin/sh', '/setup/setup-schema.sh'])).toBe('sh');
    expect(firstProgram(undefined)).toBeUndefined();
  });
});
