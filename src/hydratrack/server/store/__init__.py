"""The store: tables (``models``), migrations, and one repository module per noun.

Repository functions take the ``Connection`` of a ``Database.read()``/``write()`` block
and raise the API's errors (``NotFound``, ``Conflict``, ``InvalidState``) themselves.
"""
