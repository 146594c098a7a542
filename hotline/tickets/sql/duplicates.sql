-- Likely duplicates of a call being logged: open tickets created since $6 with the same phone, a vehicle plate in
-- common, or a similar text in the same category and territory; ranked by those signals, then similarity.
-- $1 phone, $2 category, $3 territory, $4 text (each may be NULL), $5 the plates found in the text (text[]),
-- $6 the window's start, $7 the least similarity that counts. The ticket columns are filled in from
-- queries.TICKET_COLUMNS.
-- `%` uses the trigram GIN index on title || content; its threshold is pg_trgm.similarity_threshold.
WITH c AS (
    SELECT t.id,
           CASE WHEN $4::text IS NULL THEN 0 ELSE similarity(t.title || ' ' || t.content, $4) END AS similarity,
           ($1::text IS NOT NULL AND t.caller_phone = $1) AS same_phone,
           EXISTS (SELECT 1 FROM unnest($5::text[]) AS p (plate)
                   WHERE upper(t.title || ' ' || t.content) LIKE '%' || p.plate || '%') AS same_plate
    FROM tickets t
    WHERE t.created_at >= $6 AND t.status <> 'closed'
      AND (($1::text IS NOT NULL AND t.caller_phone = $1)
           OR upper(t.title || ' ' || t.content) LIKE ANY (SELECT '%' || p || '%' FROM unnest($5::text[]) AS p)
           OR ($4::text IS NOT NULL AND ($2::text IS NULL OR t.category = $2)
               AND ($3::text IS NULL OR t.territory = $3)
               AND (t.title || ' ' || t.content) % $4))
)
SELECT {ticket_columns}, c.similarity, c.same_phone, c.same_plate
FROM c JOIN tickets t ON t.id = c.id
WHERE c.same_phone OR c.same_plate OR c.similarity >= $7::real
ORDER BY (c.same_phone OR c.same_plate) DESC, c.similarity DESC, t.created_at DESC
LIMIT 10
