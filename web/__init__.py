"""HTTP and websocket layer: parse the request, call a domain service, render."""
