"""The Evaluate page's parts: the question set and one module per tab (pages/evaluate.py lays them out)."""
