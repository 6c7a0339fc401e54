"""What the source admits at every cell's place: the checker's own reading of the text."""
