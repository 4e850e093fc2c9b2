"""双报到: unit and member registration with communities, service posts, points."""
