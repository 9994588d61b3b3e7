"""The template's nox sessions and the helpers they share with tests/."""
