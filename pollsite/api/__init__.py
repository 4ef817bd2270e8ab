"""The API toolkit every role's API is built with: identity, errors, parsing, limits, schema, calls to other roles."""
