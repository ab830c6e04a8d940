"""The versioned reference of each compliance framework (a package only so that packaging ships the YAML files)."""
