-- One callback (回访) to the citizen about an assignment's reply.
-- $1 ticket_id, $2 assignment_id, $3 at, $4 by_user, $5 contacted, $6 resolved, $7 satisfaction, $8 note.
INSERT INTO callbacks (ticket_id, assignment_id, at, by_user, contacted, resolved, satisfaction, note)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
