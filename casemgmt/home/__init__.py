"""The home page of each role, the navigation, and the language switch."""
