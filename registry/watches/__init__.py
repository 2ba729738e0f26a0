"""Watches and takedown notices: who hears of a grant's change, and the media made under it."""
