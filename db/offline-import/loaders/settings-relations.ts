import type { TableLoader } from './types';

// Badges, boards, namespace settings, releases, protected branches and tags, project settings (has_one), custom
// attributes, CI pipelines, external pull requests, pipeline schedules: filled in by the loaders of those relations.
export const SETTINGS_LOADERS: TableLoader[] = [];
