"""The voice changer: speech in, the same words out in the trained voice.

``request`` holds the knobs (light: the TUI builds its form from it), ``plan`` the pure
arithmetic (where to cut a long source, how a given text is shared among its pieces, how
the pieces go back on the source's timeline), ``step`` the run that loads the models."""
