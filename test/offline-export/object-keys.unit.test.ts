import { batchKey, entityPrefix, metadataKey, relationKey } from '../../activities/offline-export/object-keys';

// Import::Offline::ObjectKeyBuilder (gitlab-behaviour.md §A.3), the keys an offline import looks for:
//   <export_prefix>/<entity_prefix>/<relation><ext>, <export_prefix>/<entity_prefix>/<relation>/batch_<n><ext>,
//   <export_prefix>/metadata.json.gz, with entity_prefix "project_42" / "group_5".

const PREFIX = '2026-04-16_19-39-00_export_dJtnb3CV';

describe('object keys', () => {
  it('prefixes entities with their lowercased type and id', () => {
    expect(entityPrefix('project', 42)).toBe('project_42');
    expect(entityPrefix('group', 5)).toBe('group_5');
  });

  it('stores the root record as self.json.gz and every other unbatched relation as <relation>.ndjson.gz', () => {
    expect(relationKey(PREFIX, 'project', 42, 'self')).toBe(`${PREFIX}/project_42/self.json.gz`);
    expect(relationKey(PREFIX, 'group', 5, 'self')).toBe(`${PREFIX}/group_5/self.json.gz`);
    expect(relationKey(PREFIX, 'project', 42, 'labels')).toBe(`${PREFIX}/project_42/labels.ndjson.gz`);
    expect(relationKey(PREFIX, 'project', 42, 'project_feature')).toBe(
      `${PREFIX}/project_42/project_feature.ndjson.gz`,
    );
    expect(relationKey(PREFIX, 'group', 5, 'boards')).toBe(`${PREFIX}/group_5/boards.ndjson.gz`);
  });

  it('stores batches under a folder named after the relation', () => {
    expect(batchKey(PREFIX, 'project', 42, 'issues', 3)).toBe(`${PREFIX}/project_42/issues/batch_3.ndjson.gz`);
    expect(batchKey(PREFIX, 'group', 5, 'milestones', 1)).toBe(`${PREFIX}/group_5/milestones/batch_1.ndjson.gz`);
  });

  it('keeps the metadata at the top of the export', () => {
    expect(metadataKey(PREFIX)).toBe(`${PREFIX}/metadata.json.gz`);
  });

  it('names files the way the importer recognises them', () => {
    // Unbatched: the file name up to its first dot is the relation. Batched: \Abatch_(?<number>\d+)\..+\z.
    for (const relation of ['self', 'labels', 'merge_requests', 'protected_branches']) {
      const file = relationKey(PREFIX, 'project', 7, relation).split('/').at(-1)!;
      expect(file.slice(0, file.indexOf('.'))).toBe(relation);
      expect(file.endsWith('.gz')).toBe(true);
    }
    const file = batchKey(PREFIX, 'project', 7, 'issues', 12).split('/').at(-1)!;
    expect(/^batch_(?<number>\d+)\..+$/.exec(file)?.groups?.number).toBe('12');
  });

  it('keeps every portable in a folder of its own (no key of one is a prefix of another portable’s)', () => {
    const a = relationKey(PREFIX, 'project', 1, 'labels');
    const b = relationKey(PREFIX, 'project', 12, 'labels');
    expect(b.startsWith(`${PREFIX}/project_1/`)).toBe(false);
    expect(a.startsWith(`${PREFIX}/project_1/`)).toBe(true);
    expect(relationKey(PREFIX, 'group', 1, 'labels')).not.toBe(a);
  });
});
