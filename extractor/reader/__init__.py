"""Where each template row stands in the source (places, labels, tokens), and the template reader."""
