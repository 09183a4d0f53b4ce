-- sinp_import.report(import_id): what a DBA sends a provider about an import (docs/report.md). Each
-- statement is named by a `-- name:` line; $1 is the import.

-- name: report import
-- The import's status, whether it was applied, and its counts per entity and action.
SELECT i.status, i.dry_run, c.entity, c.action, c.n
  FROM sinp_import.imports AS i
  LEFT JOIN LATERAL (
        SELECT e.key AS entity, a.key AS action, a.value::bigint AS n
          FROM jsonb_each(i.entity_counts) AS e
         CROSS JOIN LATERAL jsonb_each_text(e.value) AS a
       ) AS c ON true
 WHERE i.import_id = $1
 ORDER BY c.entity, c.action;

-- name: report problems
-- Per file, severity and code: how many problems, and the first three with their line, column and
-- value (cut to 80 characters), in line order.
SELECT e.file, e.severity, e.code, count(*),
       array_to_string((array_agg(concat_ws(' ', 'line ' || e.line, e.column_name,
                                            '= ' || quote_literal(left(e.value, 80)))
                                  ORDER BY e.line NULLS FIRST))[1:3], '; ')
  FROM sinp_import.import_errors AS e
 WHERE e.import_id = $1
 GROUP BY e.file, e.severity, e.code
 ORDER BY e.file, e.severity, e.code;
