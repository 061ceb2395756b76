"""labkit view: every run of every system in a local web page."""
