"""Printable and downloadable documents: PDF (WeasyPrint) and Excel (openpyxl)."""
