"""Case conferences (the PKSAI coordinator's meeting as a record) and the tasks they create."""
