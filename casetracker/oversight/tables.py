"""Tables of the oversight package."""
