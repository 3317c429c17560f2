-- The strategy registry keeps each version's timer interval (on_timer every N seconds of event
-- time; 0: never) beside its parameters, so a rollback redeploys the earlier version as it ran.

ALTER TABLE strategy_registry ADD COLUMN timer_interval_s double precision NOT NULL DEFAULT 0
    CHECK (timer_interval_s >= 0);
