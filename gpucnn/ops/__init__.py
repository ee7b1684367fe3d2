"""Ops: one `Function` per operation, forward and backward side by side, on raw arrays."""
