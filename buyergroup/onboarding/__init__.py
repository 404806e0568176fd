"""Onboarding: how someone from outside becomes a member (above accounts and network)."""
