"""Build tooling of the book (not part of the library that chapters import)."""
