"""Duties to the child under UU PDP: who saw the record, subject access, retention."""
