"""Ways in: the operator CLI, the HTTP API and the web pages."""
