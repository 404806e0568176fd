"""Joint action statements and roadmaps of working groups."""
