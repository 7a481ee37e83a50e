"""The coordination API: my tasks, my unit's queue, the overdue tasks, a task's breach, and its
steps."""
