-- A fill is one side of a trade: a trade between two orders of one account (a self-trade) gives a
-- buy fill and a sell fill with the same trade id, and both are the account's. Before, the second
-- one was taken for a duplicate of the first and dropped.

ALTER TABLE fills DROP CONSTRAINT fills_pkey;
ALTER TABLE fills ADD PRIMARY KEY (exchange, account, symbol, fill_id, side);
