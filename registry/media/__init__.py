"""C2PA manifest building and signing, media assets."""
