"""Revision scripts: frozen history, never edited once released (add a new one instead)."""
