"""Operation groups, one module per tag. Each module is imported when first used."""
