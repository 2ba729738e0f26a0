"""The organization's inventory of approved AI tools (generators) that signing may cite."""
