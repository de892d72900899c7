import {
  INVALID_MESSAGE,
  planAttributeChange,
  TOO_MANY_MESSAGE,
  UPDATE_FAILED_MESSAGE,
  type AttributeChangeInput,
} from '../../activities/bulk-update/attribute-rules';
import { LIMITS, type BulkUpdateMode } from '../../contracts/bulk-update';
import type { AttributeRef } from '../../db/bulk-update/project-attributes';

// Security::Attributes::UpdateProjectAttributesService's rules (ee/app/services/security/attributes/
// update_project_attributes_service.rb and its spec): ADD keeps what the project has, REMOVE takes the named
// attributes off (naming one the project does not have, or one that does not exist, is nothing to do), REPLACE
// removes every current attribute except those it names again; at most 40 changes per call and 20 attributes per
// project ("Too many attributes"), unknown attributes and a second attribute of a single-selection category refused
// ("Invalid attributes"), each reason in the errors, removals of the same call counted; an attribute of another
// top-level group fails the link's validation ("Failed to update security attributes").

const ROOT = 1000;
const OTHER_ROOT = 2000;
// Category 1 "Business impact" is single-selection (attributes 11-15); category 2 "Application" is multiple (21-29).
const impact = (id: number): AttributeRef => ({
  id,
  namespaceId: ROOT,
  categoryId: 1,
  categoryName: 'Business impact',
  multipleSelection: false,
});
const app = (id: number): AttributeRef => ({
  id,
  namespaceId: ROOT,
  categoryId: 2,
  categoryName: 'Application',
  multipleSelection: true,
});
// Many attributes of a third, multiple-selection category, for the limits.
const tag = (id: number): AttributeRef => ({
  id,
  namespaceId: ROOT,
  categoryId: 3,
  categoryName: 'Tags',
  multipleSelection: true,
});
const tags = (from: number, count: number) => Array.from({ length: count }, (_, i) => tag(from + i));
const elsewhere = (a: AttributeRef): AttributeRef => ({ ...a, namespaceId: OTHER_ROOT });

const plan = (mode: BulkUpdateMode, requestedIds: number[], current: AttributeRef[], available: AttributeRef[]) =>
  planAttributeChange({ mode, requestedIds, current, available, rootNamespaceId: ROOT } satisfies AttributeChangeInput);

const sorted = (p: ReturnType<typeof planAttributeChange>) =>
  p.ok ? { ok: true, add: [...p.add].sort((a, b) => a - b), remove: [...p.remove].sort((a, b) => a - b) } : p;

const invalid = (...errors: string[]) => ({ ok: false, message: INVALID_MESSAGE, errors });
const tooMany = (...errors: string[]) => ({ ok: false, message: TOO_MANY_MESSAGE, errors });
const sameCategory = (id: number) => `Cannot add multiple attributes from the same category ${id}`;
const notFound = (id: number) => `Security attribute not found: ${id}`;
const PER_PROJECT = `Cannot exceed ${LIMITS.maxProjectAttributes} attributes per project`;
const PER_CALL = `Cannot process more than ${LIMITS.maxChangesPerCall} attributes at once`;

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
    expect(plan('ADD', [12], [impact(11)], [impact(12)])).toEqual(invalid(sameCategory(1)));
  });

  it('refuses two attributes of one single-selection category in the same request', () => {
    expect(plan('ADD', [11, 12], [], [impact(11), impact(12)])).toEqual(invalid(sameCategory(1)));
  });

  it('allows any number of attributes of a multiple-selection category, and one per single-selection category', () => {
    expect(sorted(plan('ADD', [21, 22, 23, 11], [app(24)], [app(21), app(22), app(23), impact(11)]))).toEqual({
      ok: true,
      add: [11, 21, 22, 23],
      remove: [],
    });
  });

  it('refuses attributes that do not exist (or are deleted), naming each one in the errors', () => {
    expect(plan('ADD', [21, 98, 99], [], [app(21)])).toEqual(invalid(notFound(98), notFound(99)));
    // One the project already has is not looked up again: nothing to create.
    expect(plan('ADD', [21], [app(21)], [])).toEqual({ ok: true, add: [], remove: [] });
  });

  it('fails an attribute of another top-level group as GitLab does: the link does not validate', () => {
    expect(plan('ADD', [21, 22], [], [app(21), elsewhere(app(22))])).toEqual({
      ok: false,
      message: UPDATE_FAILED_MESSAGE,
      errors: [],
    });
    // Unknown attributes and category conflicts are reported first.
    expect(plan('ADD', [22, 98], [], [elsewhere(app(22))])).toEqual(invalid(notFound(98)));
  });

  it(`allows up to ${LIMITS.maxProjectAttributes} attributes on a project, counting the ones it has`, () => {
    const current = tags(100, 17);
    expect(plan('ADD', [200, 201, 202], current, tags(200, 3))).toMatchObject({ ok: true, add: [200, 201, 202] });
    expect(plan('ADD', [200, 201, 202, 203], current, tags(200, 4))).toEqual(tooMany(PER_PROJECT));
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

  it('succeeds for attributes the project does not have, unknown ones and those of another top-level group', () => {
    expect(plan('REMOVE', [21, 77], [app(21)], [app(21)])).toEqual({ ok: true, add: [], remove: [21] });
    expect(plan('REMOVE', [77], [], [])).toEqual({ ok: true, add: [], remove: [] });
    expect(plan('REMOVE', [22], [app(21)], [elsewhere(app(22))])).toEqual({ ok: true, add: [], remove: [] });
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
    expect(plan('REPLACE', [12, 13], [impact(11)], [impact(12), impact(13)])).toEqual(invalid(sameCategory(1)));
  });

  it('checks only the attributes it names: current ones it removes need not be available', () => {
    expect(plan('REPLACE', [21], [app(25), impact(14)], [app(21)])).toEqual({ ok: true, add: [21], remove: [25, 14] });
    expect(plan('REPLACE', [21, 66], [app(25)], [app(21)])).toEqual(invalid(notFound(66)));
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
      // 21 attributes would be left, too: GitLab names both limits.
    ).toEqual(tooMany(PER_CALL, PER_PROJECT));
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
    ).toEqual(tooMany(PER_PROJECT));
  });
});

describe('planAttributeChange: order of the checks', () => {
  it('reports the limits before unknown attributes, both limits at once, counting only attributes found', () => {
    const many = tags(300, 41).map((a) => a.id);
    expect(plan('ADD', many, [], [])).toEqual(tooMany(PER_CALL));
    expect(plan('ADD', many, [], tags(300, 41))).toEqual(tooMany(PER_CALL, PER_PROJECT));
    expect(plan('ADD', [...tags(200, 21).map((a) => a.id), 999], [], tags(200, 21))).toEqual(tooMany(PER_PROJECT));
    expect(plan('ADD', [...tags(200, 20).map((a) => a.id), 999], [], tags(200, 20))).toEqual(invalid(notFound(999)));
  });

  it('names the category once per attribute that conflicts', () => {
    expect(plan('ADD', [11, 12, 13], [], [impact(11), impact(12), impact(13)])).toEqual(
      invalid(sameCategory(1), sameCategory(1)),
    );
  });

  it('reports the per-project limit before a category conflict', () => {
    const current = [impact(11), ...tags(100, 19)];
    expect(plan('ADD', [12], current, [impact(12)])).toEqual(tooMany(PER_PROJECT));
  });
});
