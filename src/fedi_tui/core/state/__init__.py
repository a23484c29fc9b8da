"""The state file: models, validation, tomlkit edits, positions, schema, secret refs, lock."""
