"""Tables of the reports package."""
