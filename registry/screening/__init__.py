"""Re-upload screening for platforms (``POST /v1/screen``): is this file registered synthetic
media, and is the consent behind it in force now? A fast path beside full verification."""
