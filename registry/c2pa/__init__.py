"""The c2pa-python adapter: the only package that imports c2pa.

``adapter`` signs a file with a manifest and reads one back (every c2pa exception becomes a
``registry.c2pa.errors`` class); ``budget`` runs each of those calls in a helper process
(``helper.py``) under a time and memory budget; ``labels`` holds the assertion labels both
directions use.
"""
