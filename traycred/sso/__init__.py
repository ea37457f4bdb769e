"""SSO: the device-authorization sign-in, the token cache shared with the AWS CLI, refresh tokens.

`tokens.SsoTokenService` is the entry point; the other modules are its parts:
`token_cache` (the `~/.aws/sso/cache` files), `device_flow` (RegisterClient,
StartDeviceAuthorization, CreateToken polling) and `browser` (the safe URL hand-off).
"""
