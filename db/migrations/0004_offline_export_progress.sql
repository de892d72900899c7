-- What the export pipeline needs beyond GitLab's columns: where each object went and what it holds (so a resumed
-- export can prove it wrote the same objects), the id range each batch covers (so a retried batch re-reads exactly
-- the same rows, whatever EXPORT_BATCH_SIZE the new worker has), and the notification marker that makes the
-- completion email go out once.

alter table bulk_import_exports
  add column object_key text,
  add column bytes bigint not null default 0,
  add column sha256 text;

alter table bulk_import_export_batches
  add column first_id bigint,
  add column last_id bigint,
  add column object_key text,
  add column bytes bigint not null default 0,
  add column sha256 text;

alter table import_offline_exports
  add column notified_at timestamptz,
  add column metadata_object_key text;
