"""Discussions of working groups: questions, answers and knowledge gaps."""
