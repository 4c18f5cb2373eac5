"""Creating payments (within currency limits) and moving them along the state machine."""
