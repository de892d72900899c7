import { planAttributeChange, type AttributeChangeInput } from '../../activities/bulk-update/attribute-rules';
import { LIMITS, type BulkUpdateMode } from '../../contracts/bulk-update';
import type { AttributeRef } from '../../db/bulk-update/project-attributes';

// Security::Attributes::UpdateProjectAttributesService's rules (gitlab-behaviour.md §B.2): ADD keeps what the project
// has, REMOVE takes the named attributes off, REPLACE removes every current attribute except those it names again;
// at most 40 changes per call and 20 attributes per project ("Too many attributes"), unknown attributes and a second
// attribute of a single-selection category refused ("Invalid attributes"), removals of the same call counted.

// Category 1 "Business impact" is single-selection (attributes 11-15); category 2 "Application" is multiple (21-29).
const impact = (id: number): AttributeRef => ({
  id,
  categoryId: 1,
  categoryName: 'Business impact',
  multipleSelection: false,
});
const app = (id: number): AttributeRef => ({ id, categoryId: 2, categoryName: 'Application', multipleSelection: true });
// Many attributes of a third, multiple-selection category, for the limits.
const tag = (id: number): AttributeRef => ({ id, categoryId: 3, categoryName: 'Tags', multipleSelection: true });
const tags = (from: number, count: number) => Array.from({ length: count }, (_, i) => tag(from + i));

const plan = (mode: BulkUpdateMode, requestedIds: number[], current: AttributeRef[], available: AttributeRef[]) =>
  planAttributeChange({ mode, requestedIds, current, available } satisfies AttributeChangeInput);

const sorted = (p: ReturnType<typeof planAttributeChange>) =>
  p.ok ? { ok: true, add: [...p.add].sort((a, b) => a - b), remove: [...p.remove].sort((a, b) => a - b) } : p;

describe('planAttributeChange: ADD', () => {
  it('adds the requested attributes the project does not have yet, and removes nothing', () => {
    expect(sorted(plan('ADD', [21, 22], [app(23)], [app(21), app(22)]))).toEqual({
      ok: true,
      add: [21, 22],
      remove: [],
    });
  });

  it('is a no-op for attributes the project already has', () => {
    expect(plan('ADD', [21, 11], [app(21), impact(11)], [app(21), impact(11)])).toEqual({
      ok: true,
      add: [],
      remove: [],
    });
  });

  it('counts a repeated id once', () => {
    expect(plan('ADD', [22, 22, 22], [], [app(22)])).toEqual({ ok: true, add: [22], remove: [] });
  });

  it('refuses a second attribute of a single-selection category the project already uses', () => {
    expect(plan('ADD', [12], [impact(11)], [impact(12)])).toEqual({
      ok: false,
      message: 'Invalid attributes: Cannot add multiple attributes from the same category 1 (Business impact)',
    });
  });

  it('refuses two attributes of one single-selection category in the same request', () => {
    expect(plan('ADD', [11, 12], [], [impact(11), impact(12)])).toEqual({
      ok: false,
      message: 'Invalid attributes: Cannot add multiple attributes from the same category 1 (Business impact)',
    });
  });

  it('allows any number of attributes of a multiple-selection category, and one per single-selection category', () => {
    expect(sorted(plan('ADD', [21, 22, 23, 11], [app(24)], [app(21), app(22), app(23), impact(11)]))).toEqual({
      ok: true,
      add: [11, 21, 22, 23],
      remove: [],
    });
  });

  it('refuses attributes that are not available in the project root group, naming each one', () => {
    expect(plan('ADD', [21, 98, 99], [], [app(21)])).toEqual({
      ok: false,
      message: 'Invalid attributes: Security attribute not found: 98; Security attribute not found: 99',
    });
    // Even one the project has: an attribute deleted since, or of another root group, cannot be named.
    expect(plan('ADD', [21], [app(21)], [])).toEqual({
      ok: false,
      message: 'Invalid attributes: Security attribute not found: 21',
    });
  });

  it(`allows up to ${LIMITS.maxProjectAttributes} attributes on a project, counting the ones it has`, () => {
    const current = tags(100, 17);
    expect(plan('ADD', [200, 201, 202], current, tags(200, 3))).toMatchObject({ ok: true, add: [200, 201, 202] });
    expect(plan('ADD', [200, 201, 202, 203], current, tags(200, 4))).toEqual({
      ok: false,
      message: 'Too many attributes: Cannot exceed 20 attributes per project',
    });
    // Re-adding what the project has does not count twice.
    expect(plan('ADD', [100, 101, 200, 201, 202], current, [...tags(100, 2), ...tags(200, 3)])).toMatchObject({
      ok: true,
      add: [200, 201, 202],
    });
  });
});

describe('planAttributeChange: REMOVE', () => {
  it('removes the requested attributes the project has, and adds nothing', () => {
    expect(sorted(plan('REMOVE', [21, 11], [app(21), impact(11), app(22)], [app(21), impact(11)]))).toEqual({
      ok: true,
      add: [],
      remove: [11, 21],
    });
  });

  it('is a no-op for available attributes the project does not have', () => {
    expect(plan('REMOVE', [22], [app(21)], [app(22)])).toEqual({ ok: true, add: [], remove: [] });
  });

  it('refuses attributes that do not exist in the root group', () => {
    expect(plan('REMOVE', [21, 77], [app(21)], [app(21)])).toEqual({
      ok: false,
      message: 'Invalid attributes: Security attribute not found: 77',
    });
  });

  it('is not held to the category rule: a project with two single-selection attributes can shed one', () => {
    expect(plan('REMOVE', [12], [impact(11), impact(12)], [impact(12)])).toEqual({ ok: true, add: [], remove: [12] });
  });
});

describe('planAttributeChange: REPLACE', () => {
  it('removes every current attribute it does not name again, and adds the rest', () => {
    expect(sorted(plan('REPLACE', [22, 23], [app(21), app(22), impact(11)], [app(22), app(23)]))).toEqual({
      ok: true,
      add: [23],
      remove: [11, 21],
    });
  });

  it('is a no-op when the project already has exactly the requested attributes', () => {
    expect(plan('REPLACE', [21, 11], [impact(11), app(21)], [impact(11), app(21)])).toEqual({
      ok: true,
      add: [],
      remove: [],
    });
  });

  it('swaps the attribute of a single-selection category (the removal of this same call counts)', () => {
    expect(plan('REPLACE', [12], [impact(11)], [impact(12)])).toEqual({ ok: true, add: [12], remove: [11] });
    // ADD could not do it.
    expect(plan('ADD', [12], [impact(11)], [impact(12)])).toMatchObject({ ok: false });
  });

  it('still refuses two attributes of one single-selection category among those it names', () => {
    expect(plan('REPLACE', [12, 13], [impact(11)], [impact(12), impact(13)])).toEqual({
      ok: false,
      message: 'Invalid attributes: Cannot add multiple attributes from the same category 1 (Business impact)',
    });
  });

  it('checks only the attributes it names: current ones it removes need not be available', () => {
    expect(plan('REPLACE', [21], [app(25), impact(14)], [app(21)])).toEqual({ ok: true, add: [21], remove: [25, 14] });
    expect(plan('REPLACE', [21, 66], [app(25)], [app(21)])).toEqual({
      ok: false,
      message: 'Invalid attributes: Security attribute not found: 66',
    });
  });

  it(`refuses more than ${LIMITS.maxChangesPerCall} changes (additions plus removals) in one call`, () => {
    // 20 removed + 20 added = 40 changes: the limit.
    expect(
      plan(
        'REPLACE',
        tags(200, 20).map((a) => a.id),
        tags(100, 20),
        tags(200, 20),
      ),
    ).toMatchObject({ ok: true });
    // 20 removed + 21 added = 41.
    expect(
      plan(
        'REPLACE',
        tags(200, 21).map((a) => a.id),
        tags(100, 20),
        tags(200, 21),
      ),
    ).toEqual({
      ok: false,
      message: 'Too many attributes: Cannot process more than 40 attributes at once',
    });
    // Attributes kept by a REPLACE are neither added nor removed, so they do not count.
    const kept = tags(100, 20).map((a) => a.id);
    expect(plan('REPLACE', kept, tags(100, 20), tags(100, 20))).toEqual({ ok: true, add: [], remove: [] });
  });

  it(`refuses to leave more than ${LIMITS.maxProjectAttributes} attributes on the project`, () => {
    expect(
      plan(
        'REPLACE',
        tags(200, 21).map((a) => a.id),
        [],
        tags(200, 21),
      ),
    ).toEqual({
      ok: false,
      message: 'Too many attributes: Cannot exceed 20 attributes per project',
    });
  });
});

describe('planAttributeChange: order of the checks', () => {
  it('reports too many changes before unknown attributes, and unknown attributes before the per-project limit', () => {
    const many = tags(300, 41).map((a) => a.id);
    expect(plan('ADD', many, [], [])).toEqual({
      ok: false,
      message: 'Too many attributes: Cannot process more than 40 attributes at once',
    });
    expect(plan('ADD', [...tags(200, 21).map((a) => a.id), 999], [], tags(200, 21))).toEqual({
      ok: false,
      message: 'Invalid attributes: Security attribute not found: 999',
    });
  });

  it('reports the per-project limit before a category conflict', () => {
    const current = [impact(11), ...tags(100, 19)];
    expect(plan('ADD', [12], current, [impact(12)])).toEqual({
      ok: false,
      message: 'Too many attributes: Cannot exceed 20 attributes per project',
    });
  });
});
