"""plotly figure builders (plotly only, never streamlit)."""
