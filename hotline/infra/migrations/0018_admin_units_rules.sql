-- Units edited by an administrator (issue 22): whom to call about a unit's cases. Its name and active flag exist.
ALTER TABLE units ADD COLUMN contact_person text;
ALTER TABLE units ADD COLUMN contact_phone text;

-- Routing rules edited by an administrator: a rule is deactivated, not deleted (tickets' routing explanations name
-- it by id), so only the rules in force must not overlap (one per category and territory, "*" being NULL).
ALTER TABLE routing_rules ADD COLUMN active boolean NOT NULL DEFAULT true;
ALTER TABLE routing_rules DROP CONSTRAINT routing_rules_category_territory_key;
CREATE UNIQUE INDEX routing_rules_in_force_key ON routing_rules (category, territory) NULLS NOT DISTINCT WHERE active;
