"""Population data (SIAK extracts), outreach rules and lists, birth-certificate coverage."""
