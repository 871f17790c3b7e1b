"""No network, server or outside tool: the pure core, the services with in-memory fakes, template checks."""
