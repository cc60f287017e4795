"""The returns API: blueprints per audience, plus the edge helpers they share."""
