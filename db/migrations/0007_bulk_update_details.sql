-- GitLab's UpdateProjectAttributesService answers a refusal with a short message ("Invalid attributes", "Too many
-- attributes") and puts the reasons in its response's payload errors. The outcome row keeps both, as GitLab's
-- response does: error_message is the message alone, error_details the payload's errors (empty when there are none).

alter table background_operation_projects
  add column error_details text[] not null default '{}';
