"""Importers: a file in, plain data out (clause trees, catalogs, playbooks). No database, no
Textual; bad input raises a `CrosswalkError` naming the file and the place (line, page)."""
