"""Tests of cases/financing, mirroring its package."""
