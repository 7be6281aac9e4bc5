"""The privacy notice's sentences, one module per language (``notice_words`` joins them)."""
