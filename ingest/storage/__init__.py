"""Where a build writes: the index folder or PostgreSQL."""
