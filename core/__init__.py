"""RAG Explorer's computation layer: pure Python, never imports streamlit."""
