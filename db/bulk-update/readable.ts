// Who may read what, in SQL fragments shared by the collection and the request checks. GitLab's read_group and
// read_project: an active user reads public and internal groups and projects, and private ones where they are a
// member of the project or of any ancestor group; admins read everything; blocked users nothing.
// Each fragment expects the aliases u (users), n (the namespace), and p (the project) where noted.

export const READABLE_GROUP = `
  u.state = 'active' and (
    u.admin or n.visibility_level >= 10 or exists (
      select 1 from members m
      where m.user_id = u.id and m.source_type = 'Namespace' and m.source_id = any(n.traversal_ids)))`;

export const READABLE_PROJECT = `
  u.state = 'active' and (
    u.admin or p.visibility_level >= 10 or exists (
      select 1 from members m
      where m.user_id = u.id and (
        (m.source_type = 'Project' and m.source_id = p.id) or
        (m.source_type = 'Namespace' and m.source_id = any(n.traversal_ids)))))`;
