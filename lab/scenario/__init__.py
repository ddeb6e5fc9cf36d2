"""Scenarios: break the world as an article does, observe, apply the article's fix, verify."""
