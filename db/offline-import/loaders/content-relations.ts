import type { TableLoader } from './types';

// Members, user contributions, labels, milestones, issues, merge requests, snippets (and their notes, label links,
// assignees, reviewers): filled in by the loaders of those relations.
export const CONTENT_LOADERS: TableLoader[] = [];
