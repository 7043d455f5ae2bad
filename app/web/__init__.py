"""Web plumbing shared by every area: templating, CSRF, authentication dependencies, forms and error pages."""
