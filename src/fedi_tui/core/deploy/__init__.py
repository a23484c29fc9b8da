"""Deploying: mapping, rendering, plan, recorded state, observed facts, the apply engine."""
