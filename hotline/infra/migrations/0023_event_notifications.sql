-- Notifications (站内通知) of lifecycle events as well as escalation steps (issue 23, item 5): a handler is told,
-- in the bell's list, of a dispatch to its unit, an urge (催办), an extension decision and a return decision, so what
-- happened while nobody watched the screen is still there. Only an escalation notification names its step.
ALTER TABLE notifications ALTER COLUMN step_id DROP NOT NULL;
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('escalation', 'dispatch', 'urge', 'extension_decision', 'return_decision'));
ALTER TABLE notifications ADD CONSTRAINT notifications_step_check CHECK ((kind = 'escalation') = (step_id IS NOT NULL));
