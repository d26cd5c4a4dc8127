-- One checkpoint per projection (remaining seats, reservations) instead of one for all views.
-- Both views were level with the old 'views' checkpoint, so each projection starts from it and
-- an existing database does not replay its history.
INSERT INTO projection_checkpoints (name, transaction_id, position)
SELECT projection.name, views.transaction_id, views.position
FROM projection_checkpoints views, (VALUES ('remaining_seats'), ('reservations')) AS projection(name)
WHERE views.name = 'views'
ON CONFLICT (name) DO NOTHING;
--> statement-breakpoint
DELETE FROM projection_checkpoints WHERE name = 'views';
