"""Demo data: a plausible city with its units, people and about eighty key projects.

Deterministic (a fixed random seed, dates counted back from today) and built through the
services, so that every project has the history its stage implies. Each case has a story
(``plan_stories``): most keep to their annual plan and their planned start, a few lag or
missed their start, and the cases in pre-work have their approvals in time but for a few.
Only this module creates the weak demo passwords.
"""
