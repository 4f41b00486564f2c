"""Pure domain logic: the national dossier vocabulary, link states, timeliness, masking."""
