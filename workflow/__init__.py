"""Who must do what by when: flows, the working-day calendar, deadlines, escalation, the monthly
cycle."""
