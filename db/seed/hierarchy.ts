// The group tree of a seeded instance, computed in TypeScript because it is small (a tenth of the projects)
// and its ids, paths and traversal_ids depend on each other.

export interface SeedGroup {
  id: number;
  name: string;
  path: string;
  parent_id: number | null;
  /** PostgreSQL array literal, e.g. "{1,4,9}". */
  traversal_ids: string;
  visibility: number;
  full_path: string;
  full_name: string;
}

export interface SeedShape {
  users: number;
  rootGroups: number;
  groups: SeedGroup[];
  projects: { id: number; namespace_id: number; name: string; path: string }[];
}

/** Projects per root group; each root gets a 9-group tree four levels deep. */
export const PROJECTS_PER_ROOT = 50;

// Child slots under a root: [parent slot, name]. Slot 0 is the root itself.
const TREE: [number, string][] = [
  [0, 'backend'],
  [0, 'frontend'],
  [1, 'services'],
  [1, 'libraries'],
  [2, 'web'],
  [2, 'mobile'],
  [3, 'payments'],
  [5, 'design-system'],
];

export function buildHierarchy(projects: number): SeedShape {
  const rootGroups = Math.max(1, Math.ceil(projects / PROJECTS_PER_ROOT));
  const groups: SeedGroup[] = [];
  const slotsByRoot: number[][] = [];
  for (let r = 0; r < rootGroups; r++) {
    const slots: SeedGroup[] = [];
    const rootPath = r === 0 ? 'gitlab-org' : `org-${r + 1}`;
    const root: SeedGroup = {
      id: groups.length + 1,
      name: r === 0 ? 'GitLab.org' : `Org ${r + 1}`,
      path: rootPath,
      parent_id: null,
      traversal_ids: `{${groups.length + 1}}`,
      visibility: r % 2 === 0 ? 20 : 0,
      full_path: rootPath,
      full_name: r === 0 ? 'GitLab.org' : `Org ${r + 1}`,
    };
    groups.push(root);
    slots.push(root);
    for (const [parentSlot, name] of TREE) {
      const parent = slots[parentSlot]!;
      const id = groups.length + 1;
      const group: SeedGroup = {
        id,
        name,
        path: name,
        parent_id: parent.id,
        traversal_ids: `${parent.traversal_ids.slice(0, -1)},${id}}`,
        visibility: parent.visibility,
        full_path: `${parent.full_path}/${name}`,
        full_name: `${parent.full_name} / ${name}`,
      };
      groups.push(group);
      slots.push(group);
    }
    slotsByRoot.push(slots.map((g) => g.id));
  }
  // Round-robin over roots, then over the groups of each root, so every level holds projects.
  const list = Array.from({ length: projects }, (_, i) => {
    const slots = slotsByRoot[i % rootGroups]!;
    const id = i + 1;
    return {
      id,
      namespace_id: slots[Math.floor(i / rootGroups) % slots.length]!,
      name: `Project ${id}`,
      path: `project-${id}`,
    };
  });
  // GDK's sample project, so the seed document's own request (gitlab-org and flightjs/Flight) works as written.
  if (projects >= 2) {
    const id = groups.length + 1;
    groups.push({
      id,
      name: 'Flightjs',
      path: 'flightjs',
      parent_id: null,
      traversal_ids: `{${id}}`,
      visibility: 20,
      full_path: 'flightjs',
      full_name: 'Flightjs',
    });
    list[list.length - 1] = { id: projects, namespace_id: id, name: 'Flight', path: 'Flight' };
  }
  return {
    users: Math.max(12, Math.min(5000, Math.ceil(projects / 10))),
    rootGroups: groups.filter((g) => g.parent_id === null).length,
    groups,
    projects: list,
  };
}
