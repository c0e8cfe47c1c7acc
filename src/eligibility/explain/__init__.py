"""Explanations: message catalogs (nb/en) and renderings of decisions for people."""
