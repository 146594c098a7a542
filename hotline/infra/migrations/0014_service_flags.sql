-- Facts about the installation itself that the service reads at run time. `demo_data`: `hotline seed --demo`
-- loaded the demo accounts, so the sign-in page may list them (outside production mode only).
CREATE TABLE service_flags (
    name    text PRIMARY KEY CHECK (name IN ('demo_data')),
    set_at  timestamptz NOT NULL DEFAULT now()
);
