"""I/O at the edge: storage, channels, calendars, bureau writers."""
