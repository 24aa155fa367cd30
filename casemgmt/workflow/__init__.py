"""The SOP as data: the six stages a case passes through (and, later, its transitions and deadlines)."""
