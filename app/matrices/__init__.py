"""The default risk matrices (3×3, 4×4, 5×5) as data: see `app.domain.risk`."""
