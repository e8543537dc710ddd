"""The running programs: ``demo`` and ``collect`` compose the packages below into processes."""
