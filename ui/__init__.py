"""The review UI: a Gradio app over the extractor (``nianbao ui``). Importing it does no work."""
