"""Complaint intake and case records: children, reporters, cases, notes, attachments, search."""
