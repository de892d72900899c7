-- Background operations (security-inventory bulk update). Redis holds GitLab's live view of an operation
-- (background_operation:{id}); these tables are the durable record the workflow relies on: the request as it was
-- accepted, the projects it collected, and one outcome per project written in the same transaction as that
-- project's attribute change, so a retried or crashed batch can never apply or count a project twice.

create table background_operations (
  -- "<operation_type>_<user_id>_<unix_seconds>_<8 hex>", the id the Redis keys carry.
  id text primary key check (id ~ '^[a-z_]+_[0-9]+_[0-9]+_[0-9a-f]{8}$'),
  operation_type text not null check (operation_type in ('attribute_update')),
  user_id bigint not null references users (id) on delete cascade,
  workflow_id text not null,
  mode text not null check (mode in ('ADD', 'REMOVE', 'REPLACE')),
  attribute_ids bigint[] not null check (cardinality(attribute_ids) between 1 and 20),
  group_ids bigint[] not null default '{}',
  project_ids bigint[] not null default '{}',
  -- created -> collecting -> running -> finished; failed when the workflow gives up.
  status text not null default 'created' check (status in ('created', 'collecting', 'running', 'finished', 'failed')),
  -- The security_bulk_operations_notifications decision, taken once when the batches are planned.
  tracked boolean,
  batch_size integer check (batch_size > 0),
  total_items integer check (total_items >= 0),
  batch_count integer check (batch_count >= 0),
  -- none -> sending (claimed, with a lease) -> sent; not_needed when nothing failed or the path is untracked.
  notification_state text not null default 'none'
    check (notification_state in ('none', 'sending', 'sent', 'not_needed', 'failed')),
  notification_claimed_at timestamptz,
  notification_message_id text,
  notified_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  check (cardinality(group_ids) + cardinality(project_ids) between 1 and 100)
);
create unique index index_background_operations_on_workflow_id on background_operations (workflow_id);
create index index_background_operations_on_user_id on background_operations (user_id, created_at);

-- One row per collected project. No foreign key to projects: a project deleted while the operation runs keeps
-- its outcome (and the name and path it had) for the report.
create table background_operation_projects (
  operation_id text not null references background_operations (id) on delete cascade,
  project_id bigint not null,
  batch_number integer,
  outcome text check (outcome in ('succeeded', 'failed')),
  error_code text check (error_code in ('service_error', 'unexpected_error')),
  error_message text,
  entity_name text,
  entity_full_path text,
  processed_at timestamptz,
  primary key (operation_id, project_id),
  check ((outcome = 'failed') = (error_code is not null))
);
create index index_background_operation_projects_on_batch
  on background_operation_projects (operation_id, batch_number, project_id);
create index index_background_operation_projects_on_failures
  on background_operation_projects (operation_id, project_id) where outcome = 'failed';
