"""One rule list per compliance framework (a package only so that packaging ships the YAML files)."""
