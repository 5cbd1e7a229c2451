"""Triggers of the deferrable operators, and the shared poller behind them (like the provider's ``triggers``)."""
