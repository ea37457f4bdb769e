"""Ways of asking the user for something (MFA codes, SSO sign-in): the engine's one seam to a UI."""
