"""Sentiment Studio's engine: data loading, models, training, evaluation, registry and prediction.

Nothing here imports streamlit; the pages, the CLI and the tests all build on these modules.
"""
