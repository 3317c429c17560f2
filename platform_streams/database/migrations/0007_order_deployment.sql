-- The strategy deployment an order came from: a kill switch on `deployment:<name>` covers the
-- orders a restarted executor reconciles from this table, not only the requests it reads.

ALTER TABLE orders ADD COLUMN deployment text NOT NULL DEFAULT '';

CREATE INDEX orders_deployment ON orders (deployment) WHERE deployment <> '';
