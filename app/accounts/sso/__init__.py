"""Single sign-on with OpenID Connect: the protocol (oidc, views) and who gets in as what (mapping, provisioning)."""
