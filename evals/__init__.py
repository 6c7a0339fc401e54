"""The eval suite: score engines and the checker against hand-labeled samples (``nianbao eval``)."""
