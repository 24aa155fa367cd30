"""Referrals along the PATBM/Puskesos -> PKSAI -> agency pathway (the pathway's tiers for now)."""
