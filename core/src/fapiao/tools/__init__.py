"""Tools for two of fapiao's user groups: procurement (``fapiao compare``), integrators going
live (``fapiao selftest``) and plugin authors (``fapiao new-plugin``).

They sit with the interfaces (they read the engine's config and start sandboxes through
entry points); nothing in the engine or the plugins imports them.
"""
