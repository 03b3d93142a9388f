"""Page routers, one module per area: finding things, learning, admin, signing in."""
