"""Calls as staff find and hear them: search with paging, one call's view, playing a recording."""
