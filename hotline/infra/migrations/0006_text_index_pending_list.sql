-- The text search index takes new tickets into a pending list that an inserting statement merges into the index
-- once it outgrows gin_pending_list_limit (4 MB by default, about 5,000 tickets), unless a vacuum got there first
-- (autovacuum is off on the benchmark machine). That merge fell on one intake statement at a time and held its
-- tickets' callers 70-120 ms (measured under the intake benchmark, 2 workers, 40 s). At 256 kB the merges come
-- sixteen times as often and none held a statement over 50 ms, at the same throughput within the run-to-run noise.
ALTER INDEX tickets_text_trgm_idx SET (gin_pending_list_limit = 256);
