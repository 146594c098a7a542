-- Interoperability with the upstream platforms (issue 12): the outbound feedback outbox (外网反馈), the closure of a
-- case the upstream platform withdrew (撤回), and the request ids that make upstream's recall/urge/supplement
-- idempotent.

-- One row per event told back to the channel that transferred the ticket, written in the transaction of the action
-- that causes it. `seq` orders a ticket's events (n+1 is posted only once n is delivered); `event_id` is what the
-- receiver deduplicates by. pending: not yet tried; failed: tried, waiting for its next attempt; dead: given up
-- after the configured attempts (an operator re-drives it); delivered: acknowledged with a 2xx.
CREATE TABLE upstream_outbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ticket_id       bigint NOT NULL REFERENCES tickets (id),
    seq             integer NOT NULL CHECK (seq > 0),
    channel         text NOT NULL REFERENCES channels (code),
    event           text NOT NULL
                        CHECK (event IN ('signed', 'extension_approved', 'replied', 'returned_upstream', 'closed')),
    body            jsonb NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failed', 'dead', 'delivered')),
    attempts        integer NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    locked_until    timestamptz,
    delivered_at    timestamptz,
    UNIQUE (ticket_id, seq),
    CHECK ((status = 'delivered') = (delivered_at IS NOT NULL))
);
CREATE INDEX upstream_outbox_due_idx ON upstream_outbox (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX upstream_outbox_open_idx ON upstream_outbox (channel, status, created_at) WHERE status <> 'delivered';

-- An upstream request (recall, urge, supplement) done once per channel and request id: a retry answers the same.
CREATE TABLE upstream_requests (
    channel     text NOT NULL REFERENCES channels (code),
    request_id  text NOT NULL CHECK (length(request_id) BETWEEN 1 AND 200),
    action      text NOT NULL CHECK (action IN ('recall', 'urge', 'supplement')),
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    fingerprint text NOT NULL,
    at          timestamptz NOT NULL,
    PRIMARY KEY (channel, request_id)
);

ALTER TABLE tickets DROP CONSTRAINT tickets_closure_check;
ALTER TABLE tickets ADD CONSTRAINT tickets_closure_check
    CHECK (closure IN ('answered', 'callback_done', 'merged', 'rejected', 'withdrawn'));
