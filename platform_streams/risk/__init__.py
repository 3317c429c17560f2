"""Pre-trade risk: intents sized into order requests (instrument rules, budgets) and checked
against one exposure view and the operator's limits and kill switches."""
