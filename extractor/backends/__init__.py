"""LLM backends: one OpenAI-compatible client path (``client.make_llm``) and the embedded model."""
